/**
 * One simulated container: its process runs on the clock (a timer only when
 * it will exit by itself), its output is a timeline of log lines written at
 * start, and restart policies apply at its exit. No disk, no processes.
 */
import { BerthError } from "@berth/protocol";
import { nextBackoffAttempt, shouldRestart } from "../restart/policy.ts";
import { transition } from "../state.ts";
import type { ContainerInfo, ContainerStats, HealthStatus, LogLine } from "../types.ts";
import type { SimClock, TimerHandle } from "./clock.ts";
import { type Program, programFor } from "./program.ts";

export interface SimLogLine {
  seq: number;
  timeMs: number;
  line: LogLine;
}

export interface SimContainer {
  info: ContainerInfo;
  /** The command run at each start (entrypoint + command, from the config or the image). */
  argv: string[];
  logs: SimLogLine[];
  nextSeq: number;
  exitTimer: TimerHandle | null;
  restartTimer: TimerHandle | null;
  runStartedMs: number | null;
  /** Run time of previous runs, for the synthetic CPU counter. */
  ranMsBefore: number;
  stoppedByUser: boolean;
  backoffAttempt: number | null;
  waiters: { resolve(code: number): void; reject(err: Error): void }[];
  /** Called once at the next change (state, output), then dropped. */
  watchers: Set<() => void>;
  removed: boolean;
}

export interface Engine {
  clock: SimClock;
  nextPid(): number;
  nextAddress(container: SimContainer): string | null;
  restartDelayMs(attempt: number): number;
  maxLogLines: number;
  /** Remove a container that exited with autoRemove. */
  autoRemove(container: SimContainer): void;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function notify(c: SimContainer): void {
  const watchers = [...c.watchers];
  c.watchers.clear();
  for (const watcher of watchers) watcher();
}

/** Not running and not about to restart: what wait() waits for. */
export function isSettled(c: SimContainer): boolean {
  return c.removed || (c.info.status !== "running" && c.restartTimer === null);
}

/** created|stopped → running: write the output timeline and schedule the exit. */
export function launch(c: SimContainer, engine: Engine): void {
  transition(c.info.name, c.info.status, "running");
  const now = engine.clock.now();
  const program = programFor(c.argv);
  Object.assign(c.info, {
    status: "running",
    pid: engine.nextPid(),
    startedAt: iso(now),
    finishedAt: null,
    exitCode: null,
    oomKilled: false,
    health: c.info.config.healthcheck ? "starting" : "none",
  } satisfies Partial<ContainerInfo>);
  c.info.ipAddress = engine.nextAddress(c);
  c.runStartedMs = now;
  const end = writeTimeline(c, program, now, engine.maxLogLines);
  if (program.exit !== null) {
    const code = program.exit;
    c.exitTimer = engine.clock.setTimeout(() => {
      c.exitTimer = null;
      exited(c, code, engine);
    }, end - now);
  }
  notify(c);
}

function writeTimeline(c: SimContainer, program: Program, startMs: number, maxLines: number): number {
  let t = startMs;
  for (const step of program.steps) {
    if (step.kind === "sleep") {
      t += step.ms;
      continue;
    }
    const lines = step.text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    for (const text of lines) {
      c.logs.push({ seq: c.nextSeq++, timeMs: t, line: { time: iso(t), stream: step.stream, line: text } });
    }
  }
  if (c.logs.length > maxLines) c.logs.splice(0, c.logs.length - maxLines);
  return t;
}

/** End the running process now (stop, kill, remove --force). */
export function terminate(c: SimContainer, exitCode: number, engine: Engine, byUser: boolean): void {
  if (byUser) c.stoppedByUser = true;
  if (c.exitTimer !== null) engine.clock.clearTimeout(c.exitTimer);
  c.exitTimer = null;
  exited(c, exitCode, engine);
}

/** running → stopped; then restart per policy after the back-off, or settle (and auto-remove). */
function exited(c: SimContainer, exitCode: number, engine: Engine): void {
  transition(c.info.name, c.info.status, "stopped");
  const now = engine.clock.now();
  const ranMs = now - (c.runStartedMs ?? now);
  c.info.health = healthNow(c, now);
  c.ranMsBefore += ranMs;
  c.runStartedMs = null;
  while (c.logs.length > 0 && c.logs.at(-1)!.timeMs > now) c.logs.pop(); // output it never got to write
  Object.assign(c.info, { status: "stopped", pid: null, exitCode, finishedAt: iso(now), ipAddress: null });
  const context = {
    exitCode,
    restartCount: c.info.restartCount,
    stoppedByUser: c.stoppedByUser,
    oomKilled: false,
  };
  if (shouldRestart(c.info.config.restart, context)) {
    c.backoffAttempt = nextBackoffAttempt(c.backoffAttempt, ranMs);
    c.restartTimer = engine.clock.setTimeout(() => {
      c.restartTimer = null;
      c.info.restartCount++;
      launch(c, engine);
    }, engine.restartDelayMs(c.backoffAttempt));
    notify(c);
    return;
  }
  for (const waiter of c.waiters.splice(0)) waiter.resolve(exitCode);
  notify(c);
  if (c.info.config.autoRemove) engine.autoRemove(c);
}

/** Drop a pending policy restart (a user's stop, kill, start or remove pre-empts it). */
export function cancelRestart(c: SimContainer, engine: Engine): boolean {
  if (c.restartTimer === null) return false;
  engine.clock.clearTimeout(c.restartTimer);
  c.restartTimer = null;
  return true;
}

/** After removal: waiters learn the container is gone, followers end. */
export function markRemoved(c: SimContainer): void {
  c.removed = true;
  const gone = new BerthError("NotFound", `container ${c.info.name} was removed before it exited`);
  for (const waiter of c.waiters.splice(0)) waiter.reject(gone);
  notify(c);
}

/**
 * Health without timers: an exec check whose command the simulator runs
 * successfully (and http/tcp checks) turn healthy one interval after the
 * start; a failing one turns unhealthy once the start period and `retries`
 * intervals have passed.
 */
export function healthNow(c: SimContainer, now: number): HealthStatus {
  const check = c.info.config.healthcheck;
  if (!check) return "none";
  if (c.info.status !== "running" || c.runStartedMs === null) return c.info.health;
  const elapsed = now - c.runStartedMs;
  const passes = check.kind !== "exec" || programFor(check.command ?? [], "not-found").exit === 0;
  if (passes) return elapsed >= check.intervalMs ? "healthy" : "starting";
  const unhealthyAfter = Math.max(check.startPeriodMs, check.intervalMs * Math.max(1, check.retries));
  return elapsed >= unhealthyAfter ? "unhealthy" : "starting";
}

/** Synthetic, deterministic usage: 1% of a CPU, a few MiB, a trickle of network while running. */
export function syntheticStats(c: SimContainer, now: number): ContainerStats {
  const runningMs = c.runStartedMs === null ? 0 : now - c.runStartedMs;
  const running = c.info.status === "running";
  const seed = Number.parseInt(c.info.id.slice(0, 4), 16) || 0;
  return {
    cpuUsageNs: Math.round((c.ranMsBefore + runningMs) * 10_000),
    memoryBytes: running ? (4 + (seed % 16)) * 1024 * 1024 : 0,
    memoryLimitBytes: c.info.config.resources.memoryBytes ?? null,
    pids: running ? 1 : 0,
    networkRxBytes: running ? Math.floor(runningMs / 10) : 0,
    networkTxBytes: running ? Math.floor(runningMs / 20) : 0,
  };
}
