/**
 * The simulated ContainerRuntime hollow agents use: the whole interface in
 * memory, cheap enough for thousands of hosts in one process (no disk, no
 * processes, a timer only for a container that will exit or restart by
 * itself). It passes the same contract suite as the real runtime.
 */
import { randomBytes } from "node:crypto";
import { BerthError } from "@berth/protocol";
import { restartDelayMs as dockerRestartDelayMs } from "../restart/policy.ts";
import { transition } from "../state.ts";
import type {
  ContainerConfig,
  ContainerInfo,
  ContainerRuntime,
  ContainerStats,
  ExecOptions,
  ExecStdio,
  LogLine,
  LogOptions,
} from "../types.ts";
import { realClock, type SimClock } from "./clock.ts";
import {
  cancelRestart,
  type Engine,
  healthNow,
  isSettled,
  launch,
  markRemoved,
  notify,
  type SimContainer,
  syntheticStats,
  terminate,
} from "./container.ts";
import { bridgeAddress, checkConfig, newContainer, resolveImage, type SimImage, uniqueId } from "./create.ts";
import { runSimulatedExec } from "./exec.ts";
import { simulatedLogs } from "./logs.ts";
import { exitCodeForSignal, parseSignal } from "./signals.ts";

export type { SimImage };

export interface SimulatedRuntimeOptions {
  clock?: SimClock;
  /** The images this host has; when absent, every image reference is accepted. */
  images?: Readonly<Record<string, SimImage>>;
  /** 64 hex characters; random by default. */
  randomId?: () => string;
  /** Back-off before policy restarts (default Docker's: 100 ms doubling to 1 min). */
  restartDelayMs?: (attempt: number) => number;
  /** Lines kept per container (default 1000). */
  maxLogLines?: number;
  /** First pid handed out (default 1000). */
  firstPid?: number;
}

export interface SimulatedRuntime extends ContainerRuntime {
  /** Containers this runtime holds. */
  readonly size: number;
}

export function createSimulatedRuntime(options: SimulatedRuntimeOptions = {}): SimulatedRuntime {
  const clock = options.clock ?? realClock;
  const randomId = options.randomId ?? (() => randomBytes(32).toString("hex"));
  const byId = new Map<string, SimContainer>();
  const byName = new Map<string, string>();
  let pid = options.firstPid ?? 1000;
  let address = 1;

  const forget = (c: SimContainer) => {
    if (c.removed) return;
    transition(c.info.name, c.info.status, "removing");
    c.info.status = "removing";
    cancelRestart(c, engine);
    byId.delete(c.info.id);
    byName.delete(c.info.name);
    markRemoved(c);
  };
  const engine: Engine = {
    clock,
    nextPid: () => (pid = pid >= 4_194_304 ? 1000 : pid + 1),
    nextAddress: (c) => (c.info.config.network === "bridge" ? bridgeAddress(address++) : null),
    restartDelayMs: options.restartDelayMs ?? dockerRestartDelayMs,
    maxLogLines: options.maxLogLines ?? 1000,
    autoRemove: forget,
  };

  const find = (idOrName: string): SimContainer => {
    const key = idOrName.startsWith("/") ? idOrName.slice(1) : idOrName;
    const exact = byId.get(key) ?? byId.get(byName.get(key) ?? "");
    if (exact) return exact;
    const matches = key ? [...byId.keys()].filter((id) => id.startsWith(key)) : [];
    if (matches.length === 1) return byId.get(matches[0]!)!;
    if (matches.length > 1) {
      throw new BerthError(
        "InvalidArgument",
        `"${idOrName}" matches ${matches.length} containers: give more of the id`,
      );
    }
    throw new BerthError("NotFound", `no container "${idOrName}" (give its name, id or a unique id prefix)`);
  };
  const start = (c: SimContainer): ContainerInfo => {
    if (c.info.status !== "running") cancelRestart(c, engine);
    transition(c.info.name, c.info.status, "running");
    Object.assign(c, { stoppedByUser: false, backoffAttempt: null });
    c.info.restartCount = 0;
    launch(c, engine);
    return view(c);
  };
  const view = (c: SimContainer): ContainerInfo => {
    const info = structuredClone(c.info);
    info.health = healthNow(c, clock.now());
    return info;
  };

  return {
    get size() {
      return byId.size;
    },

    async create(config: ContainerConfig) {
      const id = uniqueId(randomId, byId);
      const name = config.name || `sim-${id.slice(0, 12)}`;
      checkConfig(config, name);
      const holder = byName.get(name);
      if (holder) {
        throw new BerthError(
          "Conflict",
          `the name "${name}" is in use by container ${holder.slice(0, 12)}: remove it or choose another name`,
        );
      }
      const image = resolveImage(options.images, config.image);
      const c = newContainer(id, name, config, image, clock.now());
      byId.set(id, c);
      byName.set(name, id);
      transition(name, c.info.status, "created");
      c.info.status = "created";
      return view(c);
    },

    async start(idOrName) {
      return start(find(idOrName));
    },

    async stop(idOrName) {
      const c = find(idOrName);
      c.stoppedByUser = c.stoppedByUser || c.info.status !== "created";
      if (cancelRestart(c, engine)) notify(c);
      if (c.info.status === "running") terminate(c, stopExitCode(c), engine, true);
      return view(c);
    },

    async kill(idOrName, signal = "SIGKILL") {
      const c = find(idOrName);
      const parsed = parseSignal(signal);
      if (cancelRestart(c, engine)) {
        c.stoppedByUser = true;
        notify(c);
        return;
      }
      if (c.info.status !== "running") {
        throw new BerthError("FailedPrecondition", `cannot kill container ${c.info.name}: it is not running`);
      }
      const code = exitCodeForSignal(parsed);
      if (code !== null) terminate(c, code, engine, true);
    },

    async restart(idOrName) {
      const c = find(idOrName);
      if (c.info.status === "running") terminate(c, stopExitCode(c), engine, true);
      if (c.removed)
        throw new BerthError("NotFound", `container ${c.info.name} was removed when it stopped (autoRemove)`);
      return start(c);
    },

    async remove(idOrName, removeOptions = {}) {
      const c = find(idOrName);
      if (c.info.status === "running") {
        if (!removeOptions.force) transition(c.info.name, "running", "removing");
        terminate(c, 137, engine, true);
      }
      forget(c);
    },

    async list(listOptions = {}) {
      const all = [...byId.values()].filter((c) => listOptions.all || c.info.status === "running");
      return all.sort((a, b) => b.info.createdAt.localeCompare(a.info.createdAt)).map(view);
    },

    async inspect(idOrName) {
      return view(find(idOrName));
    },

    async wait(idOrName) {
      const c = find(idOrName);
      if (isSettled(c) && c.info.status === "stopped") return c.info.exitCode ?? 0;
      return new Promise<number>((resolve, reject) => c.waiters.push({ resolve, reject }));
    },

    logs(idOrName: string, logOptions: LogOptions = {}): AsyncIterable<LogLine> {
      return (async function* () {
        yield* simulatedLogs(find(idOrName), clock, logOptions);
      })();
    },

    async stats(idOrName): Promise<ContainerStats> {
      return syntheticStats(find(idOrName), clock.now());
    },

    async exec(idOrName, execOptions: ExecOptions, stdio: ExecStdio) {
      const c = find(idOrName);
      if (c.info.status !== "running") {
        throw new BerthError(
          "FailedPrecondition",
          `cannot exec in container ${c.info.name}: it is not running`,
        );
      }
      if (execOptions.command.length === 0) throw new BerthError("InvalidArgument", "exec needs a command");
      return runSimulatedExec(c, clock, execOptions.command, stdio);
    },
  };
}

/** A simulated process ends on its stop signal (a real one may ignore it until SIGKILL: 137). */
function stopExitCode(c: SimContainer): number {
  return exitCodeForSignal(parseSignal(c.info.config.stopSignal ?? "SIGTERM")) ?? 137;
}
