import {
  type AgentMessage,
  BerthError,
  CLOSE_CODES,
  type Hello,
  type HostFacts,
  helloSchema,
  PROTOCOL_VERSION,
  type Tasks,
  type Welcome,
} from "@berth/protocol";
import type { Logger } from "pino";
import { type BackoffOptions, createBackoff } from "./backoff.ts";
import { type Session, type SessionEnd, startSession } from "./session.ts";
import {
  credentialPath,
  ensureStateDir,
  loadCredential,
  type StoredCredential,
  saveCredential,
} from "./state.ts";
import { agentSocketUrl, normaliseServerUrl } from "./url.ts";
import { AGENT_VERSION } from "./version.ts";

export type ConnectionState = "idle" | "connecting" | "connected" | "waiting" | "stopped" | "failed";

export interface AgentConnectionOptions {
  /** Control-plane URL: http(s):// or ws(s)://; the socket goes to <server>/agent/v1. */
  server: string;
  /** Holds credential.json; created (0700) if missing. */
  stateDir: string;
  /** Used only while no credential is stored. */
  joinToken?: string | undefined;
  facts: HostFacts;
  log: Logger;
  agentVersion?: string;
  backoff?: BackoffOptions;
  /** Dial + upgrade + welcome must complete within this (default 15 s). */
  handshakeTimeoutMs?: number;
  /** A newer task set arrived (older and unchanged sets are not reported). */
  onTasks?: (tasks: Tasks) => void;
  onWelcome?: (welcome: Welcome) => void;
  onStateChange?: (state: ConnectionState) => void;
}

export interface AgentConnection {
  /**
   * Connect and stay connected, reconnecting with backoff. Resolves once
   * stop() has closed the connection; rejects with a BerthError when it
   * cannot go on (credential or join token rejected, protocol unsupported,
   * no way to authenticate, state directory unusable).
   */
  run(): Promise<void>;
  /** Close with 1000 and stop reconnecting; resolves when run() has settled. */
  stop(): Promise<void>;
  readonly state: ConnectionState;
  /** The latest task set received, or null. */
  readonly tasks: Tasks | null;
  /** The host id from the last welcome, or null. */
  readonly hostId: string | null;
  /** Send a frame on the current connection; false when there is none (the next welcome heals it). */
  send(message: AgentMessage): boolean;
}

type AuthKind = Hello["auth"]["kind"];

export function createAgentConnection(options: AgentConnectionOptions): AgentConnection {
  const log = options.log.child({ component: "connection" });
  const server = serverUrlOrThrow(options.server);
  const url = agentSocketUrl(server);
  const backoff = createBackoff(options.backoff);
  let state: ConnectionState = "idle";
  let credential: StoredCredential | null = null;
  let tasks: Tasks | null = null;
  let hostId: string | null = null;
  let session: Session | null = null;
  let stopping = false;
  let running: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  };

  const waitOrWake = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
      wake = done;
    });

  const onWelcome = async (welcome: Welcome) => {
    if (welcome.credential) {
      const next = { server, hostId: welcome.hostId, secret: welcome.credential };
      await storeCredential(options.stateDir, next);
      credential = next;
      log.info({ hostId: welcome.hostId }, "joined the control plane; host credential stored");
    } else if (!credential) {
      log.warn("welcome carried no credential after joining; the join token will be sent again next time");
    } else if (credential.hostId !== welcome.hostId) {
      log.warn({ storedHostId: credential.hostId, hostId: welcome.hostId }, "welcome names another host id");
    }
    hostId = welcome.hostId;
    backoff.markUp(Date.now());
    setState("connected");
    log.info(
      { hostId, serverVersion: welcome.serverVersion, heartbeatIntervalMs: welcome.heartbeatIntervalMs },
      "connected",
    );
    options.onWelcome?.(welcome);
  };

  const onTasks = (next: Tasks) => {
    if (tasks && next.version < tasks.version) {
      log.info({ version: next.version, held: tasks.version }, "ignoring an older task set");
    } else if (tasks && next.version === tasks.version) {
      log.debug({ version: next.version }, "task set unchanged");
    } else {
      tasks = next;
      log.info({ version: next.version, tasks: next.tasks.length }, "received task set");
      options.onTasks?.(next);
    }
  };

  const connectOnce = async (): Promise<void> => {
    const hello = buildHello(options, credential);
    setState("connecting");
    log.debug({ url, auth: hello.auth.kind }, "connecting");
    session = startSession({
      url,
      hello,
      log,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 15_000,
      onWelcome,
      onTasks,
    });
    if (stopping) session.close(1000, "agent stopping");
    const end = await session.ended;
    session = null;
    if (end.fatal) throw end.fatal;
    if (stopping) return;
    const fatal = fatalCloseError(end, hello.auth.kind, credentialPath(options.stateDir));
    if (fatal) throw fatal;
    const delay = backoff.nextDelay(Date.now());
    const fields = { code: end.code, reason: end.reason || undefined, error: end.error, retryInMs: delay };
    if (end.welcomed) log.info(fields, "disconnected; reconnecting");
    else log.warn(fields, "could not connect to the control plane; retrying");
    setState("waiting");
    await waitOrWake(delay);
  };

  const loop = async () => {
    try {
      credential = await prepare(options, server, log);
      while (!stopping) await connectOnce();
      setState("stopped");
    } catch (err) {
      setState("failed");
      throw err;
    }
  };

  return {
    run() {
      running ??= loop();
      return running;
    },
    async stop() {
      stopping = true;
      wake?.();
      session?.close(1000, "agent stopping");
      if (running) await running.catch(() => {});
      else setState("stopped");
    },
    get state() {
      return state;
    },
    get tasks() {
      return tasks;
    },
    get hostId() {
      return hostId;
    },
    send(message) {
      return session?.send(message) ?? false;
    },
  };
}

function serverUrlOrThrow(input: string): string {
  try {
    return normaliseServerUrl(input);
  } catch (err) {
    throw new BerthError("InvalidArgument", `invalid control-plane URL: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Create the state directory and load the credential; fail early when there is no way to authenticate. */
async function prepare(
  options: AgentConnectionOptions,
  server: string,
  log: Logger,
): Promise<StoredCredential | null> {
  const dir = await ensureStateDir(options.stateDir);
  if (dir.looseMode !== null) {
    log.warn(
      { stateDir: options.stateDir, mode: dir.looseMode.toString(8) },
      "state directory is open to others",
    );
  }
  const credential = await loadCredential(options.stateDir);
  const file = credentialPath(options.stateDir);
  if (credential && agentSocketUrl(credential.server) !== agentSocketUrl(server)) {
    throw new BerthError(
      "FailedPrecondition",
      `the host credential in ${file} belongs to ${credential.server}, not ${server}: ` +
        `to move this host, remove ${file} and join ${server} with a new join token`,
    );
  }
  if (!credential && !options.joinToken) {
    throw new BerthError(
      "FailedPrecondition",
      `this host has not joined yet (no ${file}) and no join token was given: ` +
        "create a join token on the control plane and pass it with --join-token or BERTH_JOIN_TOKEN",
    );
  }
  if (credential && options.joinToken) log.info("a host credential is stored; the join token is not needed");
  return credential;
}

function buildHello(options: AgentConnectionOptions, credential: StoredCredential | null): Hello {
  const auth: Hello["auth"] = credential
    ? { kind: "credential", hostId: credential.hostId, secret: credential.secret }
    : { kind: "join", token: options.joinToken ?? "" };
  const hello = {
    type: "hello" as const,
    protocolVersion: PROTOCOL_VERSION,
    agentVersion: options.agentVersion ?? AGENT_VERSION,
    auth,
    facts: options.facts,
  };
  const parsed = helloSchema.safeParse(hello);
  if (!parsed.success) {
    // Name the field, never its value: it may be the token or secret.
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") === "auth.token" ? "the join token" : issue?.path.join(".");
    throw new BerthError("InvalidArgument", `cannot build hello: ${where} is invalid (${issue?.message})`);
  }
  return parsed.data;
}

async function storeCredential(stateDir: string, credential: StoredCredential): Promise<void> {
  try {
    await saveCredential(stateDir, credential);
  } catch (err) {
    throw new BerthError(
      "FailedPrecondition",
      `the control plane issued a host credential but it could not be stored in ${credentialPath(stateDir)} ` +
        `(${(err as Error).message}); fix the state directory, then join again with a new join token`,
      { cause: err },
    );
  }
}

/** The error that stops the agent for a close code that retrying cannot fix; null to reconnect. */
export function fatalCloseError(end: SessionEnd, auth: AuthKind, credentialFile: string): BerthError | null {
  const said = end.reason ? ` (the control plane said: ${end.reason})` : "";
  switch (end.code) {
    case CLOSE_CODES.forbidden:
      return auth === "join"
        ? new BerthError(
            "PermissionDenied",
            `the control plane rejected the join token${said}: it is wrong, expired or already used; ` +
              "create a new join token on the control plane and start berth-agent again with it " +
              "(BERTH_JOIN_TOKEN or --join-token)",
          )
        : new BerthError(
            "PermissionDenied",
            `the control plane rejected this host's credential${said}: the host may have been removed; ` +
              `remove ${credentialFile} and join again with a new join token`,
          );
    case CLOSE_CODES.unauthenticated:
      return new BerthError(
        "Unauthenticated",
        `the control plane did not accept this agent's hello${said}; check that berth-agent matches the control plane`,
      );
    case CLOSE_CODES.unsupportedVersion:
      return new BerthError(
        "FailedPrecondition",
        `the control plane does not speak protocol version ${PROTOCOL_VERSION}${said}; ` +
          "install the berth-agent version that matches the control plane",
      );
    default:
      return null;
  }
}
