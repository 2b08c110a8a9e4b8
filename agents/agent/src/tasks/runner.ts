/**
 * The task runner: level-triggered reconciliation of the host's desired task
 * set against the containers labelled as tasks. Each look at the containers
 * (on a new set, on a timer, after a step) decides per task whether work is
 * needed; the work runs as steps (steps.ts), tasks in parallel up to a limit,
 * never two operations on one task at once. Every status change goes to
 * `onStatus`; `statuses()` is the full picture for a (re)connect.
 *
 * Nothing is stopped because the control plane is away: only a new task set
 * removes tasks. The last set is persisted, so a restarted agent adopts its
 * containers (found by label) and goes on.
 */
import type { DesiredTask, TaskStatusEntry } from "@berth/protocol";
import type { Logger } from "pino";
import type { ContainerInfo } from "../runtime/types.ts";
import { specHash, TASK_LABELS, taskIdOf } from "./container-config.ts";
import type { TaskDriver } from "./driver.ts";
import type { TaskSetStore } from "./persist.ts";
import { sameStatus } from "./status.ts";
import { converge, ENDED, observe, type StepContext, type TaskRecord, teardown } from "./steps.ts";

export interface TaskSet {
  version: number;
  tasks: DesiredTask[];
  /** The host the set was sent to (versions count per host). */
  hostId?: string | undefined;
}

export interface TaskRunnerOptions {
  driver: TaskDriver;
  log: Logger;
  /** Every status change, as it happens (a reporter batches them). */
  onStatus?: (entry: TaskStatusEntry) => void;
  /** Where the last set survives a restart; without it, memory only. */
  store?: TaskSetStore;
  /** Task operations at once (default 4). */
  concurrency?: number;
  /** How often to look at the containers (default 1 s); null: the caller calls sync(). */
  syncIntervalMs?: number | null;
  /** How long a task that left the set, and ended, stays in full reports (default 10 min). */
  endedRetentionMs?: number;
  /** How long stop() waits for operations in progress (default 5 s); they resume after a restart. */
  stopWaitMs?: number;
  now?: () => number;
}

export interface TaskRunner {
  /** Load the stored set, adopt the containers found by label, start looking. */
  start(): Promise<void>;
  /** Take a task set; false (and nothing changes) when it is older than, or as old as, the one held. */
  setTasks(set: TaskSet): boolean;
  /**
   * The host the control plane says this is (on every welcome). A set held
   * for another host (this machine joined again as a new host) keeps running
   * but no longer blocks the new host's sets, whose versions start anew.
   */
  setHost(hostId: string): void;
  /** Look at the containers now and start whatever work that shows. */
  sync(): Promise<void>;
  /** The version of the set held (-1: none yet). */
  readonly version: number;
  statuses(): TaskStatusEntry[];
  status(taskId: string): TaskStatusEntry | undefined;
  /** Resolves once no look and no task operation is in progress. */
  idle(): Promise<void>;
  /** Stop working (containers keep running); resolves when operations in progress have ended. */
  stop(): Promise<void>;
}

export function createTaskRunner(o: TaskRunnerOptions): TaskRunner {
  const log = o.log.child({ component: "tasks" });
  const now = o.now ?? Date.now;
  const concurrency = o.concurrency ?? 4;
  const retentionMs = o.endedRetentionMs ?? 10 * 60_000;
  const records = new Map<string, TaskRecord>();
  const queue: TaskRecord[] = [];
  let desired = new Map<string, DesiredTask>();
  let version = -1;
  let hostId: string | undefined;
  let active = 0;
  /** Removals in progress (tasks that left the set). */
  let removing = 0;
  let stopped = false;
  let syncing: Promise<void> | null = null;
  let syncAgain = false;
  let timer: NodeJS.Timeout | null = null;
  let idleWaiters: (() => void)[] = [];
  let saving: Promise<void> = Promise.resolve();

  const ctx: StepContext = {
    driver: o.driver,
    log,
    pulls: new Map(),
    setStatus(rec, status) {
      if (sameStatus(rec.status, status)) return;
      rec.status = status;
      rec.changedAt = now();
      const fields = {
        taskId: rec.taskId,
        state: status.state,
        exitCode: status.exitCode,
        reason: status.reason,
      };
      // Ends are worth a line at info; the way to running is not.
      if (status.state === "failed" || status.state === "exited") log.info(fields, "task ended");
      else log.debug(fields, "task state");
      o.onStatus?.(status);
    },
    onExit(rec, containerId) {
      if (rec.waitingOn === containerId) rec.waitingOn = null;
      kick(rec);
    },
    recheck(rec, ms) {
      if (rec.recheck || stopped) return;
      rec.recheck = setTimeout(() => {
        rec.recheck = null;
        kick(rec);
      }, ms);
      rec.recheck.unref();
    },
  };

  const record = (taskId: string, task: DesiredTask | null, settled: boolean): TaskRecord => {
    const rec: TaskRecord = {
      taskId,
      desired: task,
      hash: task ? specHash(task) : null,
      status: { taskId, state: "pending" },
      containerIds: [],
      settled,
      busy: false,
      queued: false,
      again: false,
      waitingOn: null,
      recheck: null,
      changedAt: now(),
    };
    records.set(taskId, rec);
    return rec;
  };

  function kick(rec: TaskRecord): void {
    if (stopped) return;
    if (rec.busy) rec.again = true;
    else if (!rec.queued) {
      rec.queued = true;
      queue.push(rec);
      pump();
    }
  }

  /**
   * The next queued task to work on: removals first; a task publishing host ports waits while containers
   * leaving the set are being removed — one may hold its port (a revived host's lost task and its
   * replacement), and a start then would fail.
   */
  function next(): number {
    const removal = queue.findIndex((r) => !r.desired);
    if (removal >= 0) return removal;
    if (removing === 0) return queue.length > 0 ? 0 : -1;
    return queue.findIndex((r) => !r.desired?.spec.ports.some((p) => p.published !== undefined));
  }

  function pump(): void {
    while (active < concurrency && !stopped) {
      const at = next();
      if (at < 0) break;
      const rec = queue.splice(at, 1)[0]!;
      rec.queued = false;
      rec.busy = true;
      active++;
      const removal = !rec.desired;
      if (removal) removing++;
      const work = rec.desired ? converge(ctx, rec, rec.desired) : teardown(ctx, rec);
      work
        .catch((err: unknown) =>
          log.warn({ err, taskId: rec.taskId }, "task step failed; retried at the next look"),
        )
        .finally(() => {
          rec.busy = false;
          active--;
          if (removal) removing--;
          if (rec.again) {
            rec.again = false;
            kick(rec);
          }
          pump();
          settleIdle();
        });
    }
  }

  function settleIdle(): void {
    if (active > 0 || queue.length > 0 || syncing) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** From the last look: does this task need work, or only a status? */
  function decide(rec: TaskRecord, cs: ContainerInfo[]): void {
    const task = rec.desired;
    if (!task) {
      // Containers to remove, or a task that had not ended yet to mark shut down.
      if (cs.length > 0 || !ENDED.has(rec.status.state)) kick(rec);
      return;
    }
    if (cs.length !== 1) {
      if (cs.length > 1 || !rec.settled) kick(rec);
      else if (!ENDED.has(rec.status.state) && rec.status.state !== "pending") kick(rec); // gone: lost
      return;
    }
    const c = cs[0]!;
    const stale = c.config.labels[TASK_LABELS.specHash] !== rec.hash;
    if (stale || (c.status === "created" && rec.status.state !== "failed")) kick(rec);
    else observe(ctx, rec, c);
  }

  async function look(): Promise<void> {
    const all = await o.driver.runtime.list({ all: true });
    const byTask = new Map<string, typeof all>();
    for (const c of all) {
      const id = taskIdOf(c);
      if (!id) continue;
      const list = byTask.get(id);
      if (list) list.push(c);
      else byTask.set(id, [c]);
    }
    for (const id of byTask.keys()) {
      if (!records.has(id)) record(id, desired.get(id) ?? null, true);
    }
    const cutoff = now() - retentionMs;
    for (const rec of records.values()) {
      const cs = byTask.get(rec.taskId) ?? [];
      rec.containerIds = cs.map((c) => c.id);
      if (rec.busy) rec.again = true; // its step runs again once done: it may have been overtaken
      if (rec.busy || rec.queued) continue;
      if (!rec.desired && cs.length === 0 && ENDED.has(rec.status.state)) {
        if (rec.changedAt < cutoff) records.delete(rec.taskId);
        continue;
      }
      decide(rec, cs);
    }
  }

  function sync(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (syncing) {
      syncAgain = true;
      return syncing;
    }
    syncing = (async () => {
      do {
        syncAgain = false;
        await look().catch((err: unknown) => log.warn({ err }, "could not list containers"));
      } while (syncAgain && !stopped);
    })().finally(() => {
      syncing = null;
      settleIdle();
    });
    return syncing;
  }

  function take(set: TaskSet): void {
    version = set.version;
    hostId = set.hostId ?? hostId;
    desired = new Map(set.tasks.map((t) => [t.taskId, t]));
    for (const rec of records.values()) {
      const task = desired.get(rec.taskId) ?? null;
      if (task && !rec.desired && rec.containerIds.length === 0) rec.settled = false;
      rec.desired = task;
      rec.hash = task ? specHash(task) : null;
    }
    for (const task of set.tasks) {
      if (!records.has(task.taskId)) o.onStatus?.(record(task.taskId, task, false).status);
    }
  }

  return {
    async start() {
      const stored = await o.store?.load().catch((err: unknown) => {
        log.warn({ err }, "could not read the stored task set; waiting for the control plane's");
        return null;
      });
      if (stored) {
        take(stored);
        log.info({ version: stored.version, tasks: stored.tasks.length }, "stored task set loaded");
      }
      await sync();
      if (o.syncIntervalMs !== null && !stopped) {
        timer = setInterval(() => void sync(), o.syncIntervalMs ?? 1000);
        timer.unref();
      }
    },
    setTasks(set) {
      if (set.version <= version || stopped) return false;
      take({ ...set, hostId });
      if (o.store) {
        saving = o.store
          .save({ version, tasks: set.tasks, hostId })
          .catch((err: unknown) => log.warn({ err }, "could not store the task set"));
      }
      void sync();
      return true;
    },
    setHost(id) {
      if (hostId !== undefined && hostId !== id) {
        log.info(
          { held: hostId, hostId: id, version },
          "the task set held was another host's; taking this host's next set",
        );
        version = -1;
      }
      hostId = id;
    },
    sync,
    get version() {
      return version;
    },
    statuses: () => [...records.values()].map((r) => r.status),
    status: (taskId) => records.get(taskId)?.status,
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      }),
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      queue.length = 0;
      for (const rec of records.values()) {
        rec.queued = false;
        if (rec.recheck) clearTimeout(rec.recheck);
        rec.recheck = null;
      }
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          settleIdle();
        }),
        new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, o.stopWaitMs ?? 5000);
        }),
      ]);
      clearTimeout(timeout);
      await saving;
    },
  };
}
