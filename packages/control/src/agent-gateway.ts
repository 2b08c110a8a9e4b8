import type { Db } from "@berth/db";
import {
  type AgentMessage,
  agentMessageSchema,
  BerthError,
  CLOSE_CODES,
  type ErrorCode,
  encodeFrame,
  type Hello,
  isBerthError,
  PROTOCOL_VERSION,
  parseFrame,
  type ServerMessage,
} from "@berth/protocol";
import type { Logger } from "pino";
import type { ChangeFeed } from "./feed.ts";
import { authenticateHost, joinHost, recordHeartbeat } from "./hosts.ts";
import { applyTaskStatus } from "./orchestration/status.ts";

/** The part of a WebSocket the gateway needs; apps/web adapts `ws` to it. */
export interface AgentSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
}

export interface GatewayConfig {
  heartbeatIntervalMs: number;
  hostTtlMs: number;
  serverVersion: string;
  /** An agent that has not said hello by then is disconnected. */
  helloTimeoutMs?: number;
}

export interface AgentSession {
  onMessage(raw: string | Buffer): void;
  onClose(): void;
  /** Settles once every frame received so far has been handled (for tests and shutdown). */
  idle(): Promise<void>;
}

export interface AgentGateway {
  accept(socket: AgentSocket, meta: { address: string | null }): AgentSession;
  connectedHosts(): string[];
  send(hostId: string, message: ServerMessage): boolean;
  closeAll(): void;
}

/**
 * The control plane's side of the agent protocol, independent of any
 * WebSocket library: authenticate the hello (join token or host credential),
 * answer with welcome, record heartbeats, and refuse everything else with an
 * error frame. Frames of one connection are handled strictly in order.
 */
export function createAgentGateway(deps: {
  db: Db;
  feed: ChangeFeed;
  log: Logger;
  config: GatewayConfig;
  /** Told when a host is welcomed (send it its task set) and when its connection ends. */
  hooks?: { connected?(hostId: string): void; disconnected?(hostId: string): void };
}): AgentGateway {
  const { db, feed, config } = deps;
  const log = deps.log.child({ component: "agent-gateway" });
  const connected = new Map<string, AgentSocket>();

  function accept(socket: AgentSocket, meta: { address: string | null }): AgentSession {
    let hostId: string | null = null;
    let closed = false;
    let queue: Promise<void> = Promise.resolve();

    const send = (m: ServerMessage) => {
      if (!closed) socket.send(encodeFrame(m));
    };
    const fail = (code: ErrorCode, message: string, closeCode?: number) => {
      send({ type: "error", code, message });
      if (closeCode !== undefined && !closed) {
        closed = true;
        socket.close(closeCode, message.slice(0, 120));
      }
    };
    const helloTimer = setTimeout(
      () => fail("Unauthenticated", "no hello received in time", CLOSE_CODES.unauthenticated),
      config.helloTimeoutMs ?? 10_000,
    );

    async function onHello(hello: Hello) {
      if (hello.protocolVersion !== PROTOCOL_VERSION) {
        return fail(
          "FailedPrecondition",
          `protocol version ${hello.protocolVersion} is not supported; this server speaks ${PROTOCOL_VERSION}: upgrade the agent`,
          CLOSE_CODES.unsupportedVersion,
        );
      }
      const agent = { facts: hello.facts, agentVersion: hello.agentVersion, address: meta.address };
      let credential: string | undefined;
      if (hello.auth.kind === "join") {
        const joined = await joinHost(db, hello.auth.token, agent);
        hostId = joined.hostId;
        credential = joined.credential;
        log.info({ hostId, hostname: hello.facts.hostname }, "host joined");
      } else {
        await authenticateHost(db, hello.auth.hostId, hello.auth.secret, agent);
        hostId = hello.auth.hostId;
        log.info({ hostId }, "host connected");
      }
      clearTimeout(helloTimer);
      const previous = connected.get(hostId);
      connected.set(hostId, socket);
      previous?.close(CLOSE_CODES.replaced, "another connection authenticated as this host");
      send({
        type: "welcome",
        hostId,
        ...(credential ? { credential } : {}),
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        hostTtlMs: config.hostTtlMs,
        serverVersion: config.serverVersion,
      });
      await feed.publish({ topic: "hosts", id: hostId });
      deps.hooks?.connected?.(hostId);
    }

    async function handle(message: AgentMessage) {
      if (hostId === null) {
        if (message.type !== "hello") {
          return fail("Unauthenticated", "the first frame must be a hello", CLOSE_CODES.unauthenticated);
        }
        return onHello(message);
      }
      switch (message.type) {
        case "hello":
          return fail(
            "FailedPrecondition",
            "this connection has already said hello",
            CLOSE_CODES.unauthenticated,
          );
        case "heartbeat":
          if (await recordHeartbeat(db, hostId)) await feed.publish({ topic: "hosts", id: hostId });
          return;
        case "task-status": {
          const { changed, significant } = await applyTaskStatus(db, hostId, message.statuses);
          log.debug({ hostId, count: message.statuses.length, changed }, "task status received");
          if (significant > 0) await feed.publish({ topic: "stacks" });
          return;
        }
        case "error":
          log.warn({ hostId, code: message.code, message: message.message }, "agent reported an error");
          return;
      }
    }

    async function process(raw: string | Buffer) {
      if (closed) return;
      const parsed = parseFrame(agentMessageSchema, raw);
      if (!parsed.ok) {
        log.warn({ hostId, address: meta.address, error: parsed.error.message }, "invalid frame");
        return fail(
          "InvalidArgument",
          parsed.error.message,
          hostId === null ? CLOSE_CODES.unauthenticated : undefined,
        );
      }
      try {
        await handle(parsed.message);
      } catch (err) {
        if (isBerthError(err) && (err.code === "PermissionDenied" || err.code === "Unauthenticated")) {
          log.warn({ address: meta.address, reason: err.message }, "agent refused");
          return fail(err.code, err.message, CLOSE_CODES.forbidden);
        }
        log.error({ err, hostId }, "handling an agent frame failed");
        const e = isBerthError(err)
          ? err
          : new BerthError("Unavailable", "the control plane could not handle this frame; retry");
        fail(e.code, e.message, hostId === null ? 1011 : undefined);
      }
    }

    return {
      onMessage(raw) {
        queue = queue.then(() => process(raw));
      },
      onClose() {
        closed = true;
        clearTimeout(helloTimer);
        if (hostId && connected.get(hostId) === socket) {
          connected.delete(hostId);
          deps.hooks?.disconnected?.(hostId);
          // The dashboard shows who is connected: tell it at once, not at the TTL.
          feed.publish({ topic: "hosts", id: hostId }).catch((err) => log.debug({ err }, "publish failed"));
        }
      },
      idle: () => queue,
    };
  }

  return {
    accept,
    connectedHosts: () => [...connected.keys()],
    send(hostId, message) {
      const socket = connected.get(hostId);
      if (!socket) return false;
      socket.send(encodeFrame(message));
      return true;
    },
    closeAll() {
      for (const socket of connected.values())
        socket.close(CLOSE_CODES.goingAway, "control plane shutting down");
      connected.clear();
    },
  };
}
