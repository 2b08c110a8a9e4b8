import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  createJoinToken,
  defaultTeamId,
  deployStack,
  getHost,
  listStackTasks,
  SYSTEM_ACTOR,
  scaleService,
} from "@berth/control";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningControlPlane } from "../../apps/web/src/server/control-plane.ts";
import { startTestControlPlane } from "../../apps/web/src/server/testing.ts";
import { AGENT_BIN, type Child, ensureBuilt, start } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

// `berth-agent --hollow N`: N simulated hosts in one process, on the real protocol, against the real
// control plane — joined with one join token of N uses, running what the scheduler places on them.
const HOSTS = 25;
let cp: RunningControlPlane;
let hollow: Child | undefined;
let dir: string;
let teamId: string;
const stackName = `hollow-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  ensureBuilt(AGENT_BIN, "@berth/agent");
  cp = await startTestControlPlane({ orchestratorIntervalMs: 200 });
  teamId = await defaultTeamId(cp.cp.database.db);
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-hollow-"));
});
afterAll(async () => {
  await hollow?.kill("SIGTERM");
  await cp?.stop();
  await rm(dir, { recursive: true, force: true });
});

const tasksOf = (service?: string) =>
  listStackTasks(cp.cp.database.db, teamId, stackName, service ? { service } : {});

describe("hollow agents against the real control plane", () => {
  it(`${HOSTS} hollow hosts join with one token and run a stack's tasks, health checks included`, async () => {
    const { token } = await createJoinToken(cp.cp.database.db, SYSTEM_ACTOR, { maxUses: HOSTS });
    const child = start([
      AGENT_BIN,
      "--hollow",
      String(HOSTS),
      "--server",
      cp.url,
      "--join-token",
      token,
      "--state-dir",
      dir,
      "--log-level",
      "warn",
    ]);
    hollow = child;
    const connected = await waitFor(
      `${HOSTS} hollow hosts connected`,
      () => {
        const ids = cp.cp.gateway.connectedHosts();
        return ids.length === HOSTS ? ids : null;
      },
      20_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${child.output()}`);
    });
    const names = await Promise.all(connected.map(async (id) => (await getHost(cp.cp.database.db, id)).name));
    expect(names.sort()).toEqual(Array.from({ length: HOSTS }, (_, i) => `hollow-${i}`).sort());

    const yaml = `
name: ${stackName}
services:
  web:
    image: registry.local/hollow/web:1
    command: ["sleep", "infinity"]
    healthcheck: { test: ["CMD", "true"], interval: 200ms }
    deploy: { replicas: 50 }
  worker:
    image: registry.local/hollow/worker:1
    deploy: { replicas: 10 }
`;
    await deployStack({ db: cp.cp.database.db, feed: cp.cp.feed }, SYSTEM_ACTOR, { teamId, yaml });
    const tasks = await waitFor(
      "60 tasks reported running by the hollow hosts",
      async () => {
        const all = await tasksOf();
        return all.length === 60 && all.every((t) => t.observed === "running") ? all : null;
      },
      30_000,
    );
    expect(new Set(tasks.map((t) => t.hostId)).size).toBe(HOSTS); // spread over every host

    await scaleService({ db: cp.cp.database.db, feed: cp.cp.feed }, SYSTEM_ACTOR, {
      teamId,
      stack: stackName,
      service: "web",
      replicas: 5,
    });
    await waitFor(
      "web scaled down to 5 running tasks",
      async () => {
        const web = await tasksOf("web");
        return web.length === 5 && web.every((t) => t.observed === "running");
      },
      30_000,
    );
    expect(child.proc.exitCode).toBeNull();
  }, 90_000);
});
