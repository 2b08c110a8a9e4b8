import type { UpdatePolicy } from "@berth/spec";
import { type CreateTask, type Decision, type ServiceView, type TaskView, TERMINAL } from "./types.ts";

export interface ReconcileOptions {
  /** For a global service: the hosts it should run on, one task each. */
  globalHosts?: string[];
}

/**
 * Decide what one service needs now, given its tasks: a pure function,
 * level-triggered — the same inputs always give the same decision, and a
 * missed run is healed by the next.
 *
 * - Every slot (1…replicas, or one per host for a global service) gets one
 *   live task; extra slots are shut down.
 * - A task that ended is replaced per the restart policy (condition, delay,
 *   max_attempts within window); a task on a lost host always is.
 * - Tasks whose spec digest is not the service's are replaced by a rolling
 *   update: `parallelism` at a time, each batch watched for `monitor` after it
 *   runs, `delay` between batches, stop-first or start-first. Failures beyond
 *   max_failure_ratio pause, continue or roll back, as failure_action says.
 */
export function reconcileService(
  service: ServiceView,
  tasks: TaskView[],
  now: number,
  options: ReconcileOptions = {},
): Decision {
  const d: Decision = { create: [], shutdown: [] };
  const wake = (at: number) => {
    if (at > now && (d.wakeAt === undefined || at < d.wakeAt)) d.wakeAt = at;
  };
  const updating = service.updateState === "updating" || service.updateState === "rolling_back";
  const policy =
    service.updateState === "rolling_back" ? service.spec.deploy.rollback : service.spec.deploy.update;
  const global = service.spec.deploy.mode === "global";
  const slotOf = (t: TaskView) => (global ? (t.hostId ?? "") : String(t.slot));
  const wanted: Map<string, CreateTask> = global
    ? new Map((options.globalHosts ?? []).map((h) => [h, { slot: 0, hostId: h, reason: "" }]))
    : new Map(
        Array.from({ length: service.spec.deploy.replicas }, (_, i) => [
          String(i + 1),
          { slot: i + 1, reason: "" },
        ]),
      );

  const bySlot = new Map<string, TaskView[]>();
  for (const t of tasks) bySlot.set(slotOf(t), [...(bySlot.get(slotOf(t)) ?? []), t]);
  const isLive = (t: TaskView) => t.desired === "running" && !TERMINAL.has(t.observed);
  const isCurrent = (t: TaskView) => t.digest === service.digest;
  const isStable = (t: TaskView) =>
    t.observed === "running" && t.startedAt !== undefined && t.startedAt + policy.monitorMs <= now;

  // Slots no longer wanted: stop what runs there.
  for (const [slot, slotTasks] of bySlot) {
    if (wanted.has(slot)) continue;
    for (const t of slotTasks.filter(isLive)) {
      d.shutdown.push({ taskId: t.id, reason: global ? "host no longer eligible" : "scaled down" });
    }
  }

  // The rolling update's bookkeeping: which current tasks are still in flight, which failed.
  const since = service.updateStartedAt ?? 0;
  const updatedTasks = tasks.filter((t) => isCurrent(t) && t.createdAt >= since);
  const failed = updating ? updatedTasks.filter((t) => failedDuringUpdate(t, policy)) : [];
  // Tasks of the new spec not yet stable, and slots between their old and new task, are in flight.
  let inFlight = tasks.filter((t) => isLive(t) && isCurrent(t) && !isStable(t)).length;
  for (const t of tasks)
    if (isLive(t) && isCurrent(t) && t.startedAt !== undefined) wake(t.startedAt + policy.monitorMs);

  const outdatedSlots: string[] = [];
  for (const [slot, create] of wanted) {
    const slotTasks = bySlot.get(slot) ?? [];
    const live = slotTasks.filter(isLive);
    const current = live.filter(isCurrent);
    const outdated = live.filter((t) => !isCurrent(t));

    if (current.length > 1) {
      // Keep the one furthest along; the others are duplicates (e.g. after a host came back).
      const [keep, ...extra] = [...current].sort(byProgress);
      for (const t of extra) d.shutdown.push({ taskId: t.id, reason: "duplicate task for its slot" });
      if (keep && isStable(keep)) {
        for (const t of outdated)
          d.shutdown.push({ taskId: t.id, reason: "replaced by its update (start-first)" });
      }
      continue;
    }
    if (current.length === 1) {
      // start-first: the old one goes once the new one is stable.
      if (isStable(current[0]!)) {
        for (const t of outdated)
          d.shutdown.push({ taskId: t.id, reason: "replaced by its update (start-first)" });
      }
      continue;
    }
    if (outdated.length > 0) {
      outdatedSlots.push(slot);
      for (const t of outdated.slice(1))
        d.shutdown.push({ taskId: t.id, reason: "duplicate task for its slot" });
      continue;
    }
    // Nothing live in the slot: start one, unless its last task ended and may not (yet) restart.
    const verdict = restartVerdict(service, slotTasks, now);
    if (verdict.kind === "settled") continue;
    if (verdict.kind === "wait") {
      wake(verdict.at);
      continue;
    }
    const stopping = slotTasks.some((t) => t.desired === "shutdown" && !TERMINAL.has(t.observed));
    inFlight += 1;
    if (stopping && policy.order === "stop-first" && slotTasks.some((t) => !isCurrent(t))) continue;
    for (const t of slotTasks) {
      if (t.desired === "running") d.shutdown.push({ taskId: t.id, reason: retireReason(t) });
    }
    d.create.push({ ...create, reason: verdict.reason });
  }

  // Update failures first: they may stop the update before another batch starts.
  const failureRatio = failed.length / Math.max(1, updatedTasks.length);
  if (
    updating &&
    failed.length > 0 &&
    failureRatio > policy.maxFailureRatio &&
    policy.failureAction !== "continue"
  ) {
    const what = `${failed.length} of ${updatedTasks.length} updated tasks failed`;
    if (policy.failureAction === "rollback" && service.updateState === "updating" && service.previousSpec) {
      d.rollback = { reason: `update failed (${what}); rolling back` };
    } else {
      const during = service.updateState === "rolling_back" ? "rollback" : "update";
      d.update = { state: "paused", message: `${during} paused: ${what}` };
    }
    return d;
  }

  if (outdatedSlots.length > 0 && service.updateState !== "paused") {
    if (!updating) d.update = { state: "updating", message: `updating to generation ${service.generation}` };
    const lastDone = Math.max(
      0,
      ...updatedTasks.filter((t) => t.startedAt !== undefined).map((t) => t.startedAt! + policy.monitorMs),
    );
    const room = policy.parallelism === 0 ? outdatedSlots.length : policy.parallelism - inFlight;
    if (room > 0 && inFlight === 0 && lastDone + policy.delayMs > now && updatedTasks.length > 0) {
      wake(lastDone + policy.delayMs);
    } else if (room > 0) {
      for (const slot of outdatedSlots.sort(bySlotNumber).slice(0, room)) {
        const old = (bySlot.get(slot) ?? []).filter(isLive)[0]!;
        const reason = `update to generation ${service.generation}`;
        if (policy.order === "start-first" || old.observed === "pending" || old.observed === "assigned") {
          d.create.push({ ...wanted.get(slot)!, reason });
          if (policy.order === "stop-first") d.shutdown.push({ taskId: old.id, reason });
        } else {
          d.shutdown.push({ taskId: old.id, reason });
        }
      }
    }
  } else if (updating && inFlight === 0 && outdatedSlots.length === 0) {
    d.update =
      service.updateState === "rolling_back"
        ? { state: "rolled_back", message: "rollback completed" }
        : { state: "completed", message: "update completed" };
  }
  return d;
}

type Verdict = { kind: "start"; reason: string } | { kind: "settled" } | { kind: "wait"; at: number };

/** Whether an empty slot gets a task now, later (restart delay) or never (policy says done). */
function restartVerdict(service: ServiceView, slotTasks: TaskView[], now: number): Verdict {
  const ended = slotTasks
    .filter((t) => TERMINAL.has(t.observed) && t.observed !== "shutdown")
    .sort((a, b) => (b.finishedAt ?? b.createdAt) - (a.finishedAt ?? a.createdAt));
  const last = ended[0];
  if (!last || last.desired === "shutdown") {
    // A fresh slot, or one whose task was shut down on purpose (scale, update): start.
    return { kind: "start", reason: last ? "replacement" : "new replica" };
  }
  if (last.observed === "lost") return { kind: "start", reason: "its host was lost" };
  const policy = service.spec.deploy.restart;
  const failed = last.observed === "failed" || (last.exitCode ?? 0) !== 0;
  if (policy.condition === "none" || (policy.condition === "on-failure" && !failed))
    return { kind: "settled" };
  if (policy.maxAttempts !== undefined) {
    const windowStart = policy.windowMs ? now - policy.windowMs : Number.NEGATIVE_INFINITY;
    const attempts = ended.filter(
      (t) => t.observed !== "lost" && (t.finishedAt ?? t.createdAt) >= windowStart,
    ).length;
    if (attempts > policy.maxAttempts) return { kind: "settled" };
  }
  const at = (last.finishedAt ?? now) + policy.delayMs;
  if (at > now) return { kind: "wait", at };
  return { kind: "start", reason: `restart after ${describeEnd(last)}` };
}

function failedDuringUpdate(t: TaskView, policy: UpdatePolicy): boolean {
  if (t.observed === "failed" || t.observed === "unhealthy") return true;
  if (t.observed !== "exited") return false;
  // Ending cleanly after the monitor window is not a failure of the update.
  const ranFor = (t.finishedAt ?? 0) - (t.startedAt ?? t.finishedAt ?? 0);
  return (t.exitCode ?? 0) !== 0 || t.startedAt === undefined || ranFor < policy.monitorMs;
}

function describeEnd(t: TaskView): string {
  if (t.observed === "failed") return "a failure";
  return `exit code ${t.exitCode ?? "unknown"}`;
}

function retireReason(t: TaskView): string {
  return t.observed === "lost" ? "host lost; replaced" : `${describeEnd(t)}; replaced`;
}

const PROGRESS: Record<string, number> = {
  running: 0,
  unhealthy: 1,
  starting: 2,
  pulling: 3,
  assigned: 4,
  pending: 5,
};

function byProgress(a: TaskView, b: TaskView): number {
  return (PROGRESS[a.observed] ?? 9) - (PROGRESS[b.observed] ?? 9) || b.createdAt - a.createdAt;
}

function bySlotNumber(a: string, b: string): number {
  return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
}
