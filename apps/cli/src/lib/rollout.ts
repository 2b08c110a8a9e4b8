import { setTimeout as sleepFor } from "node:timers/promises";
import type { StackPlan } from "@berth/spec";
import { formatDuration } from "./duration.ts";
import { CliError } from "./errors.ts";
import { reasonText, type ServiceRow, type TaskRow, taskName } from "./stacks.ts";
import { printable } from "./table.ts";

/**
 * Watching a deploy (or rollback) until it lands: poll the stack and its
 * tasks, print each task's transitions, and stop when every service runs its
 * replicas, or an update pauses or rolls back, or the time is up.
 */
export type RolloutState = "running" | "paused" | "rolled_back" | "timeout";

export interface RolloutOutcome {
  state: RolloutState;
  services: ServiceRow[];
  /** What is not there yet, per service ("web: 1/3 running; web.2 pending: no host can run it"). */
  waiting: string[];
}

export interface RolloutSource {
  services(): Promise<ServiceRow[]>;
  /** Every task, ended ones too. */
  tasks(): Promise<TaskRow[]>;
}

export interface WatchOptions {
  plan: StackPlan;
  /** The tasks before the deploy: only changes from these are printed. */
  baseline: readonly TaskRow[];
  timeoutMs: number;
  intervalMs?: number;
  now(): number;
  signal?: AbortSignal;
  onLine(line: string): void;
}

type Seen = Pick<TaskRow, "observed" | "desired" | "hostName" | "hostId">;

function where(t: Seen): string {
  return t.hostName ?? t.hostId ?? "";
}

/** Lines for what changed between two looks at the tasks: new tasks, and a new state, desire or host. */
export function taskTransitions(before: ReadonlyMap<string, Seen>, tasks: readonly TaskRow[]): string[] {
  const lines: string[] = [];
  for (const t of tasks) {
    const old = before.get(t.id);
    if (old && old.observed === t.observed && old.desired === t.desired && where(old) === where(t)) continue;
    const host = where(t) ? ` on ${where(t)}` : "";
    const desire = t.desired === "shutdown" && t.observed !== "shutdown" ? " (to shut down)" : "";
    const reason = reasonText(t);
    lines.push(
      printable(
        `${taskName(t)}  ${t.id}  ${old ? old.observed : "new"} → ${t.observed}${host}${desire}${reason ? `: ${reason}` : ""}`,
      ),
    );
  }
  return lines;
}

/** Services whose tasks this plan replaces or creates: their update state decides failure. */
export function changedServices(plan: StackPlan): Set<string> {
  return new Set(
    plan.services
      .filter((s) => s.action === "create" || (s.action === "update" && s.changes.some((c) => c.restarts)))
      .map((s) => s.name),
  );
}

/** Where the rollout stands, from the services and their live tasks. */
export function rolloutState(
  services: readonly ServiceRow[],
  tasks: readonly TaskRow[],
  changed: ReadonlySet<string>,
): { state: RolloutState | "progressing"; waiting: string[] } {
  const waiting: string[] = [];
  let failed: RolloutState | null = null;
  for (const s of services) {
    const live = tasks.filter(
      (t) => t.service === s.name && t.desired === "running" && !ENDED.has(t.observed),
    );
    if (changed.has(s.name) && (s.updateState === "paused" || s.updateState === "rolled_back")) {
      failed ??= s.updateState;
      waiting.push(
        `${s.name}: update ${s.updateState.replace("_", " ")}${s.updateMessage ? `: ${s.updateMessage}` : ""}`,
      );
      continue;
    }
    const notRunning = live.filter((t) => t.observed !== "running");
    const enough = s.mode === "global" ? notRunning.length === 0 : s.running >= s.replicas;
    const settled = s.updateState !== "updating" && s.updateState !== "rolling_back";
    if (enough && settled && notRunning.length === 0) continue;
    const count = s.mode === "global" ? `${s.running} running` : `${s.running}/${s.replicas} running`;
    const update = settled ? "" : `, ${s.updateState.replace("_", " ")}`;
    const first = notRunning[0];
    const detail = first
      ? `; ${taskName(first)} ${first.observed}${first.reason ? `: ${first.reason}` : ""}`
      : "";
    waiting.push(printable(`${s.name}: ${count}${update}${detail}`));
  }
  if (failed) return { state: failed, waiting };
  return { state: waiting.length === 0 ? "running" : "progressing", waiting };
}

const ENDED = new Set(["exited", "failed", "lost", "shutdown"]);

export async function watchRollout(source: RolloutSource, o: WatchOptions): Promise<RolloutOutcome> {
  const changed = changedServices(o.plan);
  const seen = new Map<string, Seen>(o.baseline.map((t) => [t.id, t]));
  const deadline = o.now() + o.timeoutMs;
  for (;;) {
    const [services, tasks] = await Promise.all([source.services(), source.tasks()]);
    for (const line of taskTransitions(seen, tasks)) o.onLine(line);
    for (const t of tasks) seen.set(t.id, t);
    const { state, waiting } = rolloutState(services, tasks, changed);
    if (state !== "progressing") return { state, services, waiting };
    if (o.now() >= deadline) return { state: "timeout", services, waiting };
    await sleepFor(Math.min(o.intervalMs ?? 1000, Math.max(0, deadline - o.now())), undefined, {
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }
}

/** The error a rollout that did not land exits with (FailedPrecondition); none when it did. */
export function rolloutError(stack: string, outcome: RolloutOutcome, timeoutMs: number): CliError | null {
  if (outcome.state === "running") return null;
  const what = outcome.waiting.join("; ");
  const hint = `see \`berth stack ps ${stack}\``;
  if (outcome.state === "timeout") {
    return new CliError(
      "FailedPrecondition",
      `${stack} is not running after ${formatDuration(timeoutMs)} (${what}); the deploy goes on`,
      { hint },
    );
  }
  const verb = outcome.state === "paused" ? "paused" : "was rolled back";
  return new CliError("FailedPrecondition", `the update of ${stack} ${verb}: ${what}`, { hint });
}
