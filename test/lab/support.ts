import { readFileSync } from "node:fs";
import { createJoinToken, getHost, SYSTEM_ACTOR, setHostLabels } from "@berth/control";
import { createDb, type Database } from "@berth/db";
import { describe, inject } from "vitest";
import type { ControlPlaneOptions, RunningControlPlane } from "../../apps/web/src/server/control-plane.ts";
import { startTestControlPlane } from "../../apps/web/src/server/testing.ts";
import { Lab } from "../../infra/lab/src/index.ts";
import { AGENT_BIN, ensureBuilt } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

/** Lab tests use a lab of their own name and network, so they never touch one made with the CLI. */
export const TEST_LAB = { name: "blabtest", octet: 76 } as const;

export const isRoot = process.getuid?.() === 0;

/**
 * `describe` for lab tests: network namespaces, bridges and runc need root.
 * Without it the suite is skipped and says so on stderr, never silently.
 */
export function describeLab(name: string, fn: () => void): void {
  if (!isRoot) process.stderr.write(`skipped: ${name} needs root (lab hosts are network namespaces)\n`);
  describe.skipIf(!isRoot)(name, fn);
}

/** Whether a process runs: not gone and not a zombie (one reparented to init may wait a while to be reaped). */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

export interface LabWithControlPlane {
  lab: Lab;
  cp: RunningControlPlane;
  database: Database;
  /** Host ids, by lab host index. */
  hostIds: string[];
  hostState(index: number): Promise<string>;
  connected(index: number): boolean;
  stop(): Promise<void>;
}

/**
 * A lab of `hosts` hosts and a real control plane listening on the lab
 * bridge (short TTL), every agent joined. `stop` tears both down.
 */
export async function startLabWithControlPlane(o: {
  hosts: number;
  hostTtlMs?: number;
  heartbeatIntervalMs?: number;
  /** Anything else for the control plane (orchestratorIntervalMs, registryDir, …). */
  controlPlane?: Partial<ControlPlaneOptions>;
  /**
   * Labels of host i (for placement constraints such as node.labels.zone), set through the control
   * plane once it has joined: agents do not report labels.
   */
  labels?: (index: number) => Record<string, string>;
}): Promise<LabWithControlPlane> {
  ensureBuilt(AGENT_BIN, "@berth/agent");
  // A run that crashed may have left its lab behind: replace it.
  const lab = await Lab.create({ ...TEST_LAB, hosts: o.hosts, replace: true });
  const database = createDb(inject("databaseUrl"));
  let cp: RunningControlPlane | null = null;
  try {
    cp = await startTestControlPlane({
      host: lab.gateway,
      port: 0,
      hostTtlMs: o.hostTtlMs ?? 3000,
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? 500,
      startupGraceMs: 0,
      ...o.controlPlane,
    });
    const { token } = await createJoinToken(database.db, SYSTEM_ACTOR, {
      maxUses: o.hosts,
      description: "lab test",
    });
    const hostIds = await lab.startAgents({ server: cp.url, joinToken: token });
    if (o.labels) {
      for (const [i, id] of hostIds.entries())
        await setHostLabels(database.db, SYSTEM_ACTOR, id, o.labels(i));
    }
    const running = cp;
    return {
      lab,
      cp: running,
      database,
      hostIds,
      hostState: async (i) => (await getHost(database.db, hostIds[i]!)).state,
      connected: (i) => running.cp.gateway.connectedHosts().includes(hostIds[i]!),
      async stop() {
        await lab.down();
        await running.stop();
        await database.close();
      },
    };
  } catch (err) {
    await lab.down().catch(() => {});
    await cp?.stop();
    await database.close();
    throw err;
  }
}

/** Wait until every host is connected to the control plane and `ready`. */
export async function waitAllReady(env: LabWithControlPlane, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    `all ${env.lab.hosts.length} lab hosts connected and ready`,
    async () => {
      for (const host of env.lab.hosts) {
        if (!env.connected(host.index) || (await env.hostState(host.index)) !== "ready") return false;
      }
      return true;
    },
    timeoutMs,
  );
}

/** Wait until lab host `index` is in `state` (ready, down, …) in the control plane's records. */
export function waitHostState(
  env: LabWithControlPlane,
  index: number,
  state: string,
  timeoutMs = 20_000,
): Promise<true> {
  return waitFor(
    `${env.lab.host(index).name} (${env.hostIds[index]}) to be ${state}`,
    async () => (await env.hostState(index)) === state || null,
    timeoutMs,
  );
}
