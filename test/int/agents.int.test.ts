import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createJoinToken, getHost, SYSTEM_ACTOR } from "@berth/control";
import { createDb, type Database } from "@berth/db";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningControlPlane } from "../../apps/web/src/server/control-plane.ts";
import { startTestControlPlane } from "../../apps/web/src/server/testing.ts";
import { AGENT_BIN, type Child, ensureBuilt, start } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

// Real agent processes against a real control plane over a real WebSocket.
const TTL_MS = 2000;
let database: Database;
let cp: RunningControlPlane;
let port = 0;
const children: Child[] = [];
const dirs: string[] = [];

async function startCp(): Promise<RunningControlPlane> {
  const running = await startTestControlPlane({
    port,
    hostTtlMs: TTL_MS,
    heartbeatIntervalMs: 300,
    startupGraceMs: 0,
  });
  port = Number(new URL(running.url).port);
  return running;
}

beforeAll(async () => {
  ensureBuilt(AGENT_BIN, "@berth/agent");
  database = createDb(inject("databaseUrl"));
  cp = await startCp();
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill("SIGKILL")));
});
afterAll(async () => {
  await cp.stop();
  await database.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function stateDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "berth-agent-"));
  dirs.push(dir);
  return path.join(dir, "state");
}

function agent(dir: string, extra: string[] = []): Child {
  const child = start([AGENT_BIN, "--server", cp.url, "--state-dir", dir, "--log-level", "debug", ...extra]);
  children.push(child);
  return child;
}

async function joinedAgent() {
  const { token } = await createJoinToken(database.db, SYSTEM_ACTOR, {});
  const dir = await stateDir();
  const child = agent(dir, ["--join-token", token]);
  const cred = await waitFor(
    "the agent to store its credential",
    async () => JSON.parse(await readFile(path.join(dir, "credential.json"), "utf8")) as { hostId: string },
  );
  return { child, dir, hostId: cred.hostId, token };
}

const hostState = async (id: string) => (await getHost(database.db, id)).state;
const connected = (id: string) => cp.cp.gateway.connectedHosts().includes(id);

describe("agents and the control plane", () => {
  it("joins, reports facts, and sends heartbeats", async () => {
    const { hostId } = await joinedAgent();
    const host = await getHost(database.db, hostId);
    expect(host.state).toBe("ready");
    expect(host.name).toBe(os.hostname());
    expect(host.cpus).toBe(os.cpus().length);
    expect(["v1", "v2", "hybrid"]).toContain(host.facts.cgroupMode);
    const first = host.lastSeenAt.getTime();
    await waitFor(
      "a heartbeat to move lastSeenAt",
      async () => (await getHost(database.db, hostId)).lastSeenAt.getTime() > first,
    );
  });

  it("keeps the same identity when the agent restarts", async () => {
    const { child, dir, hostId } = await joinedAgent();
    await child.kill("SIGTERM");
    await waitFor("the host to disconnect", () => !connected(hostId));
    agent(dir); // no join token: the stored credential is used
    await waitFor("the restarted agent to reconnect as the same host", () => connected(hostId));
    expect(await hostState(hostId)).toBe("ready");
  });

  it("reconnects by itself after the control plane restarts", async () => {
    const { hostId } = await joinedAgent();
    await cp.stop();
    cp = await startCp();
    await waitFor("the agent to reconnect to the new control plane", () => connected(hostId), 15_000);
  });

  it("goes down after its TTL when the agent is killed, and ready when it returns", async () => {
    const { child, dir, hostId } = await joinedAgent();
    await child.kill("SIGKILL");
    const killedAt = Date.now();
    await waitFor(
      "the host to be marked down",
      async () => (await hostState(hostId)) === "down",
      TTL_MS + 5000,
    );
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(TTL_MS - 500);
    agent(dir);
    await waitFor("the host to be ready again", async () => (await hostState(hostId)) === "ready");
  });

  it("exits with a clear error when its join token is refused", async () => {
    const { token } = await joinedAgent();
    const second = agent(await stateDir(), ["--join-token", token]);
    const code = await Promise.race([
      second.exited,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("the refused agent did not exit within 10 s")), 10_000),
      ),
    ]);
    expect(code).not.toBe(0);
    expect(second.output()).toMatch(/already been used/);
  });
});
