/**
 * The work on one task, as small idempotent steps (Nomad's task-runner
 * hooks): each looks at what exists first, so a step interrupted by an agent
 * restart is simply done again. `converge` brings a wanted task to a running
 * container (image → volumes → create → start → observe); `teardown` stops and
 * removes the containers of a task no longer wanted.
 */
import type { DesiredTask, TaskStatusEntry } from "@berth/protocol";
import { isBerthError } from "@berth/protocol";
import type { Logger } from "pino";
import type { ContainerInfo } from "../runtime/types.ts";
import { TASK_LABELS, taskIdOf, toContainerConfig } from "./container-config.ts";
import type { TaskDriver } from "./driver.ts";
import { failed, reasonOf, statusFromContainer } from "./status.ts";

/** What the runner keeps per task; the steps read and update it. */
export interface TaskRecord {
  taskId: string;
  desired: DesiredTask | null;
  /** The spec hash of `desired`. */
  hash: string | null;
  status: TaskStatusEntry;
  /** Ids of this task's containers at the runner's last look. */
  containerIds: string[];
  /**
   * A container was made (or could not be) for this task: it is never made
   * again — the control plane's orchestrator replaces a task that ended.
   */
  settled: boolean;
  busy: boolean;
  queued: boolean;
  again: boolean;
  /** The container whose wait() is pending (cheap-wait drivers only). */
  waitingOn: string | null;
  /** A look at this task is scheduled (its health check's first result is due). */
  recheck: NodeJS.Timeout | null;
  changedAt: number;
}

export interface StepContext {
  driver: TaskDriver;
  log: Logger;
  setStatus(rec: TaskRecord, status: TaskStatusEntry): void;
  /** Look at the task again when its container exits. */
  onExit(rec: TaskRecord, containerId: string): void;
  /** Look at the task again after `ms` (once; a pending one stays). */
  recheck(rec: TaskRecord, ms: number): void;
  /** Image pulls in flight, shared by the tasks that need the same image. */
  pulls: Map<string, Promise<void>>;
}

export async function converge(ctx: StepContext, rec: TaskRecord, task: DesiredTask): Promise<void> {
  const { runtime } = ctx.driver;
  const config = toContainerConfig(task);
  const hash = config.labels[TASK_LABELS.specHash];
  // A new set may arrive while a step waits: then stop here; the task's next step takes it from there.
  const overtaken = () => rec.desired !== task;
  let current: ContainerInfo | null = null;
  let replaced = false;
  for (const c of await freshContainers(ctx, rec, config.name)) {
    if (taskIdOf(c) !== task.taskId) {
      ctx.setStatus(rec, failed(task.taskId, `the container name ${c.name} is taken by another container`));
      rec.settled = true;
      return;
    }
    // A container of another spec, or a second one: only one container per task, of its spec.
    if (current) {
      ctx.log.info(
        { taskId: rec.taskId, id: c.id, kept: current.id },
        "removing a second container of the task",
      );
      await removeContainer(ctx, c);
    } else if (c.config.labels[TASK_LABELS.specHash] !== hash) {
      ctx.log.info(
        { taskId: rec.taskId, id: c.id },
        "replacing the task's container: made from another spec",
      );
      await removeContainer(ctx, c);
      replaced = true;
    } else {
      current = c;
    }
  }
  if (overtaken()) return;
  if (!current) {
    if (rec.settled && !replaced) return lost(ctx, rec);
    const made = await create(ctx, rec, task, config, overtaken);
    if (!made) return;
    current = made;
  }
  if (current.status === "created" && rec.status.state !== "failed" && !overtaken()) {
    ctx.setStatus(rec, { taskId: rec.taskId, state: "starting", containerId: current.id });
    try {
      current = await runtime.start(current.id);
    } catch (err) {
      ctx.setStatus(rec, failed(rec.taskId, `could not start: ${reasonOf(err)}`, current.id));
      return;
    }
  }
  observe(ctx, rec, current);
}

/** Image, volumes, container: any failure is the task's `failed` with the reason. */
async function create(
  ctx: StepContext,
  rec: TaskRecord,
  task: DesiredTask,
  config: ReturnType<typeof toContainerConfig>,
  overtaken: () => boolean,
): Promise<ContainerInfo | null> {
  const { driver } = ctx;
  try {
    if (!(await driver.hasImage(task.spec.image))) {
      ctx.setStatus(rec, { taskId: rec.taskId, state: "pulling" });
      await pullOnce(ctx, task.spec.image);
    }
  } catch (err) {
    rec.settled = true;
    ctx.setStatus(rec, failed(rec.taskId, `could not pull ${task.spec.image}: ${reasonOf(err)}`));
    return null;
  }
  if (overtaken()) return null;
  rec.settled = true;
  try {
    for (const mount of task.spec.mounts) {
      if (mount.type === "volume") {
        await driver.ensureVolume(mount.source, {
          [TASK_LABELS.stack]: task.stack,
        });
      }
    }
    return await driver.runtime.create(config);
  } catch (err) {
    ctx.setStatus(rec, failed(rec.taskId, `could not create the container: ${reasonOf(err)}`));
    return null;
  }
}

function pullOnce(ctx: StepContext, image: string): Promise<void> {
  let pull = ctx.pulls.get(image);
  if (!pull) {
    pull = ctx.driver.pull(image).finally(() => ctx.pulls.delete(image));
    ctx.pulls.set(image, pull);
  }
  return pull;
}

/** The container of a task that was running went away without us: the task has failed. */
function lost(ctx: StepContext, rec: TaskRecord): void {
  const { state } = rec.status;
  if (state === "running" || state === "starting" || state === "unhealthy") {
    const reason = "the container was removed outside Berth";
    ctx.setStatus(rec, failed(rec.taskId, reason, rec.status.containerId));
  }
}

export function observe(ctx: StepContext, rec: TaskRecord, info: ContainerInfo): void {
  if (info.status === "created" && rec.status.state === "failed") return; // its start failed: it stays failed
  const status = statusFromContainer(rec.taskId, info);
  if (status) ctx.setStatus(rec, status);
  const check = info.config.healthcheck;
  if (check && info.status === "running" && info.health === "starting") {
    // The first result lands one interval after the start; then look every interval (at most 5 s).
    const firstDue = Date.parse(info.startedAt ?? "") + check.intervalMs + 50 - Date.now();
    ctx.recheck(rec, firstDue > 0 ? firstDue : Math.min(Math.max(check.intervalMs, 100), 5000));
  }
  if (ctx.driver.cheapWait && info.status === "running" && rec.waitingOn !== info.id) {
    rec.waitingOn = info.id;
    ctx.driver.runtime.wait(info.id).then(
      () => ctx.onExit(rec, info.id),
      () => ctx.onExit(rec, info.id),
    );
  }
}

/** States a task reaches by itself: kept when it leaves the set (the orchestrator counts such ends). */
export const ENDED: ReadonlySet<string> = new Set(["exited", "failed", "shutdown"]);

export async function teardown(ctx: StepContext, rec: TaskRecord): Promise<void> {
  let stopped: ContainerInfo | null = null;
  let exited: ContainerInfo | null = null;
  for (const c of await freshContainers(ctx, rec, null)) {
    if (taskIdOf(c) !== rec.taskId) continue;
    const after = (await removeContainer(ctx, c)) ?? c;
    if (c.status === "running") stopped = after;
    else if (c.status === "stopped") exited = c;
  }
  const { state } = rec.status;
  if (!stopped && exited && state !== "exited" && state !== "failed") {
    // It ended by itself before this look: that is what it did, not a shutdown.
    const status = statusFromContainer(rec.taskId, exited);
    if (status) ctx.setStatus(rec, status);
    return;
  }
  if (!stopped && ENDED.has(state)) return;
  const containerId = stopped?.id ?? rec.status.containerId;
  const exitCode = stopped?.exitCode ?? undefined;
  ctx.setStatus(rec, {
    taskId: rec.taskId,
    state: "shutdown",
    ...(containerId ? { containerId } : {}),
    ...(exitCode !== undefined && exitCode !== null ? { exitCode } : {}),
  });
}

/** Stop (the task's signal, then SIGKILL after its grace period) and remove; gone already is fine. */
async function removeContainer(ctx: StepContext, c: ContainerInfo): Promise<ContainerInfo | null> {
  const { runtime } = ctx.driver;
  try {
    const stopped = c.status === "running" ? await runtime.stop(c.id) : c;
    await runtime.remove(c.id, { force: true });
    ctx.log.debug({ taskId: taskIdOf(c), id: c.id }, "task container removed");
    return stopped;
  } catch (err) {
    if (isBerthError(err) && err.code === "NotFound") return null;
    throw err;
  }
}

/** The task's containers as they are now: those seen at the last look, and the one by its name. */
async function freshContainers(ctx: StepContext, rec: TaskRecord, name: string | null) {
  const keys = new Set(rec.containerIds);
  if (name) keys.add(name);
  if (rec.status.containerId) keys.add(rec.status.containerId);
  const seen = new Map<string, ContainerInfo>();
  for (const key of keys) {
    const info = await ctx.driver.runtime.inspect(key).catch((err: unknown) => {
      if (isBerthError(err) && err.code === "NotFound") return null;
      throw err;
    });
    if (info) seen.set(info.id, info);
  }
  // The running one first: it is the one kept.
  return [...seen.values()].sort((a, b) => Number(b.status === "running") - Number(a.status === "running"));
}
