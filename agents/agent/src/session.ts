import {
  type AgentMessage,
  BerthError,
  encodeFrame,
  type Hello,
  MAX_FRAME_BYTES,
  parseFrame,
  type ServerMessage,
  serverMessageSchema,
  type Tasks,
  type Welcome,
} from "@berth/protocol";
import type { Logger } from "pino";
import { type RawData, WebSocket } from "ws";

/**
 * One WebSocket connection to the control plane, from dial to close: send
 * hello, handle frames in order, heartbeat once welcomed. Reconnecting is the
 * caller's business (connection.ts).
 */
export interface SessionOptions {
  url: string;
  hello: Hello;
  log: Logger;
  /** Dial + upgrade + welcome must complete within this. */
  handshakeTimeoutMs: number;
  /** Awaited before any later frame is handled (the credential is stored here). */
  onWelcome(welcome: Welcome): Promise<void>;
  onTasks(tasks: Tasks): void;
}

export interface SessionEnd {
  code: number;
  reason: string;
  /** Whether the server welcomed this session. */
  welcomed: boolean;
  /** The last socket error (refused, TLS, unexpected HTTP response…), for the log. */
  error?: string;
  /** Set when a handler failed in a way that must stop the agent. */
  fatal?: BerthError;
}

export interface Session {
  readonly ended: Promise<SessionEnd>;
  /** Close cleanly; the socket is destroyed if the server does not answer within `graceMs`. */
  close(code: number, reason: string, graceMs?: number): void;
  /** Send a frame once welcomed; false (nothing sent) before the welcome or once the socket is closing. */
  send(message: AgentMessage): boolean;
}

export function startSession(options: SessionOptions): Session {
  const { log } = options;
  const ws = new WebSocket(options.url, {
    maxPayload: MAX_FRAME_BYTES,
    handshakeTimeout: options.handshakeTimeoutMs,
    perMessageDeflate: false,
  });
  let welcomed = false;
  let fatal: BerthError | undefined;
  let lastError: string | undefined;
  let queue = Promise.resolve();
  let lastHeard = Date.now();
  const timers = new Set<NodeJS.Timeout>();

  // The handshake timeout covers the upgrade; this one covers everything up to welcome.
  const welcomeTimer = setTimeout(() => {
    log.warn({ timeoutMs: options.handshakeTimeoutMs }, "no welcome from the control plane in time");
    ws.terminate();
  }, options.handshakeTimeoutMs);
  timers.add(welcomeTimer);

  const closeSocket = (code: number, reason: string, graceMs = 2000) => {
    if (ws.readyState === WebSocket.CLOSED) return;
    ws.close(code, reason);
    const timer = setTimeout(() => ws.terminate(), graceMs);
    timer.unref();
    timers.add(timer);
  };
  const send = (message: AgentMessage) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(message));
  };
  const protocolError = (message: string) => {
    log.warn({ problem: message }, "invalid frame from the control plane");
    send({ type: "error", code: "InvalidArgument", message: message.slice(0, 4000) });
  };

  const handle = async (frame: ServerMessage) => {
    if (frame.type === "error") {
      log.warn({ code: frame.code, serverMessage: frame.message }, "the control plane reported an error");
    } else if (frame.type === "welcome") {
      if (welcomed) return protocolError("welcome received twice on one connection");
      welcomed = true;
      clearTimeout(welcomeTimer);
      await options.onWelcome(frame);
      startHeartbeats(frame);
    } else if (!welcomed) {
      protocolError(`"${frame.type}" received before welcome`);
    } else {
      options.onTasks(frame);
    }
  };

  const startHeartbeats = (welcome: Welcome) => {
    let seq = 0;
    const silenceLimitMs = Math.max(welcome.hostTtlMs, 2 * welcome.heartbeatIntervalMs);
    const timer = setInterval(() => {
      if (Date.now() - lastHeard > silenceLimitMs) {
        log.warn(
          { silentMs: Date.now() - lastHeard },
          "control plane silent past the host TTL; reconnecting",
        );
        ws.terminate();
        return;
      }
      send({ type: "heartbeat", seq: seq++ });
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, welcome.heartbeatIntervalMs);
    timers.add(timer);
  };

  ws.on("open", () => {
    log.debug("socket open; sending hello");
    send(options.hello);
  });

  ws.on("message", (data: RawData, isBinary: boolean) => {
    lastHeard = Date.now();
    // Parse now, act in order: nothing overtakes a welcome whose credential is still being stored.
    const parsed = isBinary
      ? {
          ok: false as const,
          error: { message: "binary frames are not part of the protocol; send JSON text" },
        }
      : parseFrame(serverMessageSchema, toBuffer(data));
    queue = queue
      .then(() => (parsed.ok ? handle(parsed.message) : protocolError(parsed.error.message)))
      .catch((err: unknown) => {
        fatal = err instanceof BerthError ? err : new BerthError("Internal", String(err), { cause: err });
        closeSocket(1011, "agent failed");
      });
  });
  ws.on("pong", () => {
    lastHeard = Date.now();
  });
  ws.on("error", (err) => {
    lastError = err.message;
    log.debug({ error: err.message }, "socket error");
  });

  const ended = new Promise<SessionEnd>((resolve) => {
    ws.on("close", (code, reason) => {
      clearAll(timers);
      // Let an in-flight handler (storing the credential) finish before reporting the end.
      void queue.then(() =>
        resolve({ code, reason: reason.toString("utf8"), welcomed, error: lastError, fatal }),
      );
    });
  });

  return {
    ended,
    close: closeSocket,
    send(message) {
      if (!welcomed || ws.readyState !== WebSocket.OPEN) return false;
      send(message);
      return true;
    },
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function clearAll(timers: Set<NodeJS.Timeout>): void {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
}
