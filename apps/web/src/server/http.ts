import http from "node:http";
import type { Duplex } from "node:stream";
import { currentLeader, resolveApiToken, resolveSession } from "@berth/control";
import { AGENT_PATH, MAX_FRAME_BYTES } from "@berth/protocol";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import { readCookie, SESSION_COOKIE } from "./cookies.ts";
import { REGISTRY_TOKEN_PATH, type RegistryServer } from "./registry.ts";
import type { Context, ControlPlane } from "./trpc/init.ts";
import { appRouter } from "./trpc/router.ts";

export interface PageHandler {
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | void;
  upgrade?(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> | void;
}

const MAX_API_BODY_BYTES = 1024 * 1024;

function clientAddress(req: http.IncomingMessage): string | null {
  const a = req.socket.remoteAddress;
  return a ? a.replace(/^::ffff:/, "") : null;
}

async function createContext(
  cp: ControlPlane,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<Context> {
  const db = cp.database.db;
  const sessionToken = readCookie(req.headers.cookie, SESSION_COOKIE);
  const auth = req.headers.authorization;
  const bearer = auth?.startsWith("Bearer ") ? auth.slice(7).trim() : null;
  const principal = bearer
    ? await resolveApiToken(db, bearer)
    : sessionToken
      ? await resolveSession(db, sessionToken)
      : null;
  return {
    cp,
    principal,
    sessionToken,
    bearerToken: bearer,
    clientIp: clientAddress(req),
    setCookie: (value) => res.appendHeader("Set-Cookie", value),
  };
}

/** Who leads the control loops (as Postgres sees it) and whether it is this replica. */
async function leaderStatus(cp: ControlPlane) {
  if (!cp.leader) return null;
  const current = await currentLeader(cp.database.pool, cp.leader.name).catch(() => null);
  return { identity: current?.identity ?? null, self: cp.leader.isLeader(), replica: cp.leader.identity };
}

/**
 * The control plane's one HTTP server: `/healthz`, the tRPC API at
 * `/api/trpc`, the agent WebSocket at `/agent/v1`, and everything else to the
 * page handler (Next.js) when there is one.
 */
export function createHttpServer(deps: {
  cp: ControlPlane;
  log: Logger;
  pages?: PageHandler;
  registry?: RegistryServer;
}): http.Server {
  const { cp, pages, registry } = deps;
  const log = deps.log.child({ component: "http" });
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    maxBodySize: MAX_API_BODY_BYTES,
    createContext: ({ req, res }) => createContext(cp, req, res),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        log.error({ err: error.cause ?? error, path }, "API call failed");
    },
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/healthz") {
      const reachable = await cp.database.ping(1000);
      res.writeHead(reachable ? 200 : 503, {
        "content-type": "application/json",
        "cache-control": "no-store",
      });
      res.end(
        JSON.stringify({
          status: reachable ? "ok" : "degraded",
          version: cp.version,
          database: { reachable },
          leader: reachable ? await leaderStatus(cp) : null,
        }),
      );
      return;
    }
    if (url.pathname.startsWith("/api/trpc/")) return trpc(req, res);
    if (registry && (url.pathname === "/v2" || url.pathname.startsWith("/v2/")))
      return registry.handle(req, res);
    if (registry && url.pathname === REGISTRY_TOKEN_PATH) return registry.token(req, res);
    if (pages) return pages.handle(req, res);
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });

  server.on("upgrade", (req, socket, head) => {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    if (pathname !== AGENT_PATH) {
      if (pages?.upgrade) return void pages.upgrade(req, socket, head);
      return void socket.destroy();
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = cp.gateway.accept(
        { send: (data) => ws.send(data), close: (code, reason) => ws.close(code, reason) },
        { address: clientAddress(req) },
      );
      ws.on("message", (data: Buffer) => session.onMessage(data));
      ws.on("error", (err) =>
        log.warn({ err: err.message, address: clientAddress(req) }, "agent socket error"),
      );
      ws.on("close", () => session.onClose());
    });
  });
  // Image layers are long uploads: no overall request deadline (idle sockets still time out).
  server.requestTimeout = 0;
  return server;
}
