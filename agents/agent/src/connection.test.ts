import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CLOSE_CODES, type HostFacts, isBerthError, type Tasks } from "@berth/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AgentConnection, type ConnectionState, createAgentConnection } from "./connection.ts";
import { createLogger } from "./logger.ts";
import { credentialPath, loadCredential, saveCredential } from "./state.ts";
import { startTestControlPlane, type TestControlPlane } from "./testing/control-plane.ts";
import { AsyncQueue, withTimeout } from "./testing/wait.ts";

const JOIN_TOKEN = "join-token-0123456789abcdef";
const SECRET = "host-secret-0123456789abcdef";
const facts: HostFacts = {
  hostname: "test-host",
  os: "Debian GNU/Linux 12 (bookworm)",
  arch: "amd64",
  kernel: "6.1.0",
  cpus: 2,
  memoryBytes: 2 ** 31,
  cgroupMode: "hybrid",
  runtime: { name: "runc", version: "1.1.5" },
  conmon: null,
  cniPlugins: ["bridge"],
};
const welcome = (extra: Record<string, unknown> = {}) => ({
  type: "welcome",
  hostId: "h_1",
  heartbeatIntervalMs: 60_000,
  hostTtlMs: 180_000,
  serverVersion: "test",
  ...extra,
});
const taskSet = (version: number): Tasks => ({
  type: "tasks",
  version,
  tasks: [
    {
      taskId: `t_${version}`,
      name: "shop_web.1",
      stack: "shop",
      service: "web",
      slot: 1,
      spec: {
        image: "registry.local/web:1",
        env: {},
        ports: [],
        mounts: [],
        labels: {},
        stopGracePeriodMs: 10_000,
        readOnly: false,
        tty: false,
        limits: {},
      },
    },
  ],
});

let server: TestControlPlane;
let stateDir: string;
let logLines: string[];
let agent: AgentConnection | undefined;

beforeEach(async () => {
  server = await startTestControlPlane();
  stateDir = await mkdtemp(path.join(tmpdir(), "berth-agent-conn-"));
  logLines = [];
});
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await server.close();
  await rm(stateDir, { recursive: true, force: true });
});

/** An agent against the test server, reconnecting without delay, recording what it reports. */
function startAgent(options: { joinToken?: string; onTasks?: (tasks: Tasks) => void } = {}) {
  const states = new AsyncQueue<ConnectionState>();
  const seen: ConnectionState[] = [];
  const log = createLogger("trace", { write: (line: string) => logLines.push(line) });
  agent = createAgentConnection({
    server: server.url,
    stateDir,
    joinToken: options.joinToken,
    facts,
    log,
    backoff: { baseMs: 1, random: () => 0 },
    onTasks: options.onTasks,
    onStateChange: (state) => {
      seen.push(state);
      states.push(state);
    },
  });
  const run = agent.run();
  run.catch(() => {}); // observed by the tests that expect it to fail
  return { agent, run, states, seen };
}

describe("joining and reconnecting", () => {
  it("joins with the token, stores the credential first, then reconnects with it", async () => {
    const credentialAtFirstTasks: (string | null)[] = [];
    const { agent, run, states } = startAgent({
      joinToken: JOIN_TOKEN,
      onTasks: () => {
        const file = credentialPath(stateDir);
        credentialAtFirstTasks.push(existsSync(file) ? readFileSync(file, "utf8") : null);
      },
    });
    const first = await server.nextConnection("the first connection");
    expect(first.path).toBe("/agent/v1");
    const hello = (await first.frames.next("hello")).frame;
    expect(hello).toMatchObject({ type: "hello", protocolVersion: 1, facts });
    expect(hello.auth).toEqual({ kind: "join", token: JOIN_TOKEN });

    first.send(welcome({ credential: SECRET }));
    first.send(taskSet(1)); // must not be handled before the credential is on disk
    await states.find((s) => s === "connected", "state connected");
    await withTimeout(
      (async () => {
        while (agent.tasks === null) await new Promise((r) => setImmediate(r));
      })(),
      2000,
      "the first task set",
    );
    expect(credentialAtFirstTasks).toHaveLength(1);
    expect(credentialAtFirstTasks[0]).toContain(SECRET);
    expect(await loadCredential(stateDir)).toEqual({ server: server.url, hostId: "h_1", secret: SECRET });

    first.ws.close(CLOSE_CODES.goingAway, "restarting");
    const second = await server.nextConnection("the reconnection");
    const hello2 = (await second.frames.next("hello on reconnect")).frame;
    expect(hello2.auth).toEqual({ kind: "credential", hostId: "h_1", secret: SECRET });

    await agent.stop();
    await withTimeout(run, 2000, "run() to resolve after stop");
    expect(await withTimeout(second.closed, 2000, "the server to see the close")).toBe(1000);
    expect(agent.state).toBe("stopped");
    const logs = logLines.join("");
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(JOIN_TOKEN);
  });

  it("fails before dialling when there is neither a credential nor a join token", async () => {
    const { run, seen } = startAgent();
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isBerthError(err) && err.code).toBe("FailedPrecondition");
    expect(seen).toEqual(["failed"]);
    expect(server.connectionCount).toBe(0);
  });

  it("refuses a stored credential that belongs to another control plane", async () => {
    await saveCredential(stateDir, { server: "https://elsewhere.example", hostId: "h_9", secret: SECRET });
    const { run } = startAgent({ joinToken: JOIN_TOKEN });
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isBerthError(err) && err.code).toBe("FailedPrecondition");
    expect(server.connectionCount).toBe(0);
  });
});

describe("fatal close codes", () => {
  it.each([
    ["forbidden, with a join token", CLOSE_CODES.forbidden, "join", "PermissionDenied"],
    ["forbidden, with a credential", CLOSE_CODES.forbidden, "credential", "PermissionDenied"],
    ["unauthenticated", CLOSE_CODES.unauthenticated, "join", "Unauthenticated"],
    ["unsupported version", CLOSE_CODES.unsupportedVersion, "join", "FailedPrecondition"],
  ])("%s: stops with %s and does not retry", async (_, code, auth, errorCode) => {
    if (auth === "credential")
      await saveCredential(stateDir, { server: server.url, hostId: "h_1", secret: SECRET });
    const { run, seen } = startAgent({ joinToken: auth === "join" ? JOIN_TOKEN : undefined });
    const conn = await server.nextConnection("the connection");
    expect((await conn.frames.next("hello")).frame.auth).toMatchObject({ kind: auth });
    conn.ws.close(code, "no");
    const err = await withTimeout(
      run.then(
        () => null,
        (e: unknown) => e,
      ),
      2000,
      "run() to reject",
    );
    expect(isBerthError(err) && err.code).toBe(errorCode);
    // With a zero backoff a retry would have been scheduled (state "waiting") before run() settled.
    expect(seen).toEqual(["connecting", "failed"]);
    expect(server.connectionCount).toBe(1);
  });

  it("reconnects after a non-fatal close such as replaced", async () => {
    const { seen } = startAgent({ joinToken: JOIN_TOKEN });
    const first = await server.nextConnection("the first connection");
    await first.frames.next("hello");
    first.ws.close(CLOSE_CODES.replaced, "another agent took over");
    await server.nextConnection("the reconnection");
    expect(seen).toContain("waiting");
  });
});

describe("a welcomed connection", () => {
  async function welcomed(extra: Record<string, unknown> = {}, onTasks?: (tasks: Tasks) => void) {
    const started = startAgent({ joinToken: JOIN_TOKEN, onTasks });
    const conn = await server.nextConnection("the connection");
    await conn.frames.next("hello");
    conn.send(welcome({ credential: SECRET, ...extra }));
    await started.states.find((s) => s === "connected", "state connected");
    return { ...started, conn, welcomedAt: Date.now() };
  }

  it("sends heartbeats at the interval the server asked for", async () => {
    const interval = 50;
    const { conn, welcomedAt } = await welcomed({ heartbeatIntervalMs: interval });
    const beats = [];
    for (let i = 0; i < 3; i++) beats.push(await conn.frames.next(`heartbeat ${i}`, 2000));
    expect(beats.map((b) => b.frame)).toEqual([0, 1, 2].map((seq) => ({ type: "heartbeat", seq })));
    // Timers never fire early, so beat k arrives no sooner than (k+1) intervals after welcome
    // (5 ms slack for millisecond rounding); lateness under load is bounded only loosely.
    beats.forEach((beat, k) => {
      expect(beat.at - welcomedAt).toBeGreaterThanOrEqual((k + 1) * interval - 5);
    });
    expect(beats[2]!.at - welcomedAt).toBeLessThan(3 * interval + 1500);
  });

  it("keeps the newest task set and ignores older and repeated versions", async () => {
    const reported = new AsyncQueue<number>();
    const { conn, agent } = await welcomed({}, (tasks) => reported.push(tasks.version));
    for (const version of [2, 1, 2, 3]) conn.send(taskSet(version));
    expect(await reported.next("task set 2")).toBe(2);
    expect(await reported.next("task set 3")).toBe(3);
    expect(agent.tasks?.version).toBe(3);
    expect(reported.pending).toEqual([]);
  });

  it("answers an invalid frame with an error frame and stays connected", async () => {
    const reported = new AsyncQueue<number>();
    const { conn, agent } = await welcomed({}, (tasks) => reported.push(tasks.version));
    conn.sendRaw("{not json");
    conn.send({ type: "tasks", version: -1, tasks: [] });
    conn.send({ type: "surprise" });
    for (let i = 0; i < 3; i++) {
      expect((await conn.frames.next(`error frame ${i}`)).frame).toMatchObject({
        type: "error",
        code: "InvalidArgument",
      });
    }
    conn.send(taskSet(7));
    expect(await reported.next("task set 7")).toBe(7);
    expect(agent.state).toBe("connected");
  });
});

describe("before welcome", () => {
  it("rejects tasks sent before welcome with an error frame", async () => {
    startAgent({ joinToken: JOIN_TOKEN });
    const conn = await server.nextConnection("the connection");
    await conn.frames.next("hello");
    conn.send(taskSet(1));
    expect((await conn.frames.next("the error frame")).frame).toMatchObject({ type: "error" });
    expect(agent?.tasks).toBeNull();
  });

  it("stop() ends a backoff wait at once", async () => {
    const states = new AsyncQueue<ConnectionState>();
    agent = createAgentConnection({
      server: server.url,
      stateDir,
      joinToken: JOIN_TOKEN,
      facts,
      log: createLogger("silent"),
      backoff: { baseMs: 60_000, capMs: 60_000, random: () => 0.99 },
      onStateChange: (state) => states.push(state),
    });
    const run = agent.run();
    const conn = await server.nextConnection("the connection");
    conn.ws.close(1011, "server error");
    await states.find((s) => s === "waiting", "state waiting");
    await withTimeout(agent.stop(), 1000, "stop() during a 59 s backoff");
    await withTimeout(run, 1000, "run() to resolve");
    expect(agent.state).toBe("stopped");
  });
});
