/**
 * Hollow agents (kubemark's hollow nodes): N simulated hosts in one process,
 * each a real agent connection — its own WebSocket, credential under
 * `<stateDir>/hollow-<i>`, hello, heartbeats, task sets and task statuses —
 * with the real task runner over a simulated host (sim-host.ts). Light by
 * design: no timer per host that fires unless something is due; one shared
 * ticker looks at the hosts' containers, a slice of hosts per tick.
 */
import path from "node:path";
import type { HostFacts } from "@berth/protocol";
import type { Logger } from "pino";
import type { BackoffOptions } from "../backoff.ts";
import { type AgentConnection, createAgentConnection } from "../connection.ts";
import { createStatusReporter, type StatusReporter } from "../tasks/reporter.ts";
import { createTaskRunner, type TaskRunner } from "../tasks/runner.ts";
import { createSimHost, type SimHost } from "./sim-host.ts";

export interface HollowFleetOptions {
  count: number;
  server: string;
  /** Needs at least `count` uses while the hosts have no credential yet. */
  joinToken?: string | undefined;
  /** Each host keeps its credential in `<stateDir>/hollow-<i>`. */
  stateDir: string;
  log: Logger;
  /** Host indexes start here (default 0): several processes can share a control plane. */
  firstIndex?: number;
  /** Time between two hosts' first connection (default 5 ms): joins do not arrive all at once. */
  rampMs?: number;
  /** How often each host looks at its containers (default 5 s; exits and health checks are followed as they happen). */
  syncIntervalMs?: number;
  /** How long a simulated pull takes (default 200 ms). */
  pullDelayMs?: number;
  facts?: (index: number) => HostFacts;
  backoff?: BackoffOptions;
}

export interface HollowHost {
  index: number;
  name: string;
  sim: SimHost;
  runner: TaskRunner;
  reporter: StatusReporter;
  connection: AgentConnection;
}

export interface HollowFleet {
  readonly hosts: readonly HollowHost[];
  /** Connect every host (ramped); resolves once all have stopped, rejects when every one failed. */
  run(): Promise<void>;
  stop(): Promise<void>;
}

const TICK_MS = 100;

/** A plausible, uniform host: 8 CPUs, 32 GiB (uniform, so scale runs place the same way every time). */
export function hollowFacts(index: number): HostFacts {
  return {
    hostname: `hollow-${index}`,
    os: "Berth hollow host (simulated)",
    arch: process.arch === "x64" ? "amd64" : process.arch,
    kernel: "hollow",
    cpus: 8,
    memoryBytes: 32 * 1024 ** 3,
    cgroupMode: "v2",
    runtime: { name: "runc", version: "hollow" },
    conmon: null,
    cniPlugins: [],
  };
}

export function createHollowFleet(o: HollowFleetOptions): HollowFleet {
  const first = o.firstIndex ?? 0;
  const syncIntervalMs = o.syncIntervalMs ?? 5000;
  const hosts: HollowHost[] = [];
  for (let i = first; i < first + o.count; i++) hosts.push(hollowHost(o, i));

  let ticker: NodeJS.Timeout | null = null;
  let next = 0;
  let stopping = false;
  const perTick = Math.max(1, Math.ceil((hosts.length * TICK_MS) / syncIntervalMs));
  const tick = () => {
    for (let n = 0; n < perTick && hosts.length > 0; n++) {
      void hosts[next]!.runner.sync();
      next = (next + 1) % hosts.length;
    }
  };

  return {
    hosts,
    async run() {
      await Promise.all(hosts.map((h) => h.runner.start()));
      ticker = setInterval(tick, TICK_MS);
      const runs: Promise<unknown>[] = [];
      for (const host of hosts) {
        if (stopping) break;
        runs.push(
          host.connection.run().catch((err: unknown) => {
            o.log.error({ host: host.name, err: (err as Error).message }, "hollow host stopped");
            throw err;
          }),
        );
        if (o.rampMs !== 0) await new Promise((resolve) => setTimeout(resolve, o.rampMs ?? 5));
      }
      const results = await Promise.allSettled(runs);
      if (ticker) clearInterval(ticker);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failures.length > 0 && failures.length === results.length) throw failures[0]!.reason;
    },
    async stop() {
      stopping = true;
      if (ticker) clearInterval(ticker);
      await Promise.all(
        hosts.map(async (h) => {
          await h.connection.stop();
          await h.runner.stop();
          h.reporter.stop();
        }),
      );
    },
  };
}

function hollowHost(o: HollowFleetOptions, index: number): HollowHost {
  const name = `hollow-${index}`;
  const log = o.log.child({ host: name });
  const sim = createSimHost({ pullDelayMs: o.pullDelayMs ?? 200 });
  let connection: AgentConnection | null = null;
  const reporter = createStatusReporter({
    version: () => runner.version,
    statuses: () => runner.statuses(),
    send: (frame) => connection?.send(frame) ?? false,
  });
  const runner = createTaskRunner({
    driver: sim.driver,
    log,
    syncIntervalMs: null, // the fleet's ticker
    onStatus: (status) => reporter.changed(status),
  });
  connection = createAgentConnection({
    server: o.server,
    stateDir: path.join(o.stateDir, name),
    joinToken: o.joinToken,
    facts: (o.facts ?? hollowFacts)(index),
    log,
    ...(o.backoff ? { backoff: o.backoff } : {}),
    onTasks: (tasks) => runner.setTasks(tasks),
    onWelcome: (welcome) => {
      runner.setHost(welcome.hostId);
      reporter.sendAll();
    },
  });
  return { index, name, sim, runner, reporter, connection };
}
