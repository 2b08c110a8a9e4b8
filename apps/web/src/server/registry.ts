import { AsyncLocalStorage } from "node:async_hooks";
import type http from "node:http";
import {
  createPgRegistryMetadata,
  issueRegistryToken,
  type Principal,
  REGISTRY_TOKEN_TTL_S,
  registryAllows,
  registryPrincipal,
  registryTokenKey,
} from "@berth/control";
import type { Db } from "@berth/db";
import { createFsBlobStore, createRegistryHandler, type RegistryAccess, RegistryError } from "@berth/oci";
import { isBerthError } from "@berth/protocol";
import type { Logger } from "pino";

/** The path of the token endpoint of the Docker token flow. */
export const REGISTRY_TOKEN_PATH = "/auth/token";

export interface RegistryServer {
  /** Everything under /v2/. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  /** GET /auth/token: Basic credentials (password or API token) in, a short-lived bearer token out. */
  token(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
}

function origin(req: http.IncomingMessage, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/$/, "");
  return `http://${req.headers.host ?? "localhost"}`;
}

function challenge(req: http.IncomingMessage, access: RegistryAccess, publicUrl: string | undefined): string {
  const actions = access.action === "push" ? "pull,push" : access.action;
  const scope = access.repository ? `,scope="repository:${access.repository}:${actions}"` : "";
  return `Bearer realm="${origin(req, publicUrl)}${REGISTRY_TOKEN_PATH}",service="berth"${scope}`;
}

/**
 * Berth's built-in registry: the OCI Distribution API of @berth/oci, with
 * blobs under `root`, metadata in Postgres, and Berth's users: Basic
 * (password or API token) or the Docker bearer-token flow; everyone may pull,
 * operators push, admins delete.
 */
export async function createRegistryServer(o: {
  db: Db;
  root: string;
  log: Logger;
  publicUrl?: string;
}): Promise<RegistryServer> {
  const key = await registryTokenKey(o.db);
  const caller = new AsyncLocalStorage<{ principal: Principal | null }>();
  const metadata = createPgRegistryMetadata(o.db, {
    pushedBy: () => caller.getStore()?.principal?.username ?? null,
  });
  const log = o.log.child({ component: "registry" });

  async function authorize(req: http.IncomingMessage, access: RegistryAccess): Promise<void> {
    let principal: Principal | null;
    try {
      principal = await registryPrincipal(o.db, key, req.headers.authorization);
    } catch (err) {
      const message = isBerthError(err) ? err.message : "authentication failed";
      throw new RegistryError("UNAUTHORIZED", message, {
        headers: { "WWW-Authenticate": challenge(req, access, o.publicUrl) },
      });
    }
    if (!principal) {
      throw new RegistryError(
        "UNAUTHORIZED",
        "authentication required: log in with a Berth user or API token",
        {
          headers: { "WWW-Authenticate": challenge(req, access, o.publicUrl) },
        },
      );
    }
    if (!registryAllows(principal.role, access.action)) {
      throw new RegistryError("DENIED", `the ${principal.role} role may not ${access.action} here`);
    }
    const store = caller.getStore();
    if (store) store.principal = principal;
  }

  const handler = createRegistryHandler({
    blobs: createFsBlobStore({ root: o.root }),
    metadata,
    authorize,
    log,
  });
  return {
    handle: (req, res) => caller.run({ principal: null }, () => handler(req, res)),
    async token(req, res) {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, {
          "content-type": "application/json",
          "cache-control": "no-store",
          ...headers,
        });
        res.end(JSON.stringify(body));
      };
      try {
        const principal = await registryPrincipal(o.db, key, req.headers.authorization);
        if (!principal) {
          return send(
            401,
            { errors: [{ code: "UNAUTHORIZED", message: "log in with a Berth user or API token" }] },
            {
              "WWW-Authenticate": 'Basic realm="berth"',
            },
          );
        }
        const token = issueRegistryToken(key, principal);
        send(200, {
          token,
          access_token: token,
          expires_in: REGISTRY_TOKEN_TTL_S,
          issued_at: new Date().toISOString(),
        });
      } catch (err) {
        const message = isBerthError(err) ? err.message : "authentication failed";
        if (!isBerthError(err)) log.error({ err }, "token request failed");
        send(
          401,
          { errors: [{ code: "UNAUTHORIZED", message }] },
          { "WWW-Authenticate": 'Basic realm="berth"' },
        );
      }
    },
  };
}
