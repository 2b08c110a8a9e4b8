/** A task's reported status from what its container shows, and the comparison that decides a report. */
import type { TaskStatusEntry } from "@berth/protocol";
import type { ContainerInfo } from "../runtime/types.ts";

const REASON_MAX = 1000;

/**
 * running → `running`, or with a health check `starting` until the first
 * healthy result and `unhealthy` when it fails; stopped → `exited` with its
 * code; created → `starting`. null while the container is being made or removed.
 */
export function statusFromContainer(taskId: string, info: ContainerInfo): TaskStatusEntry | null {
  const base = { taskId, containerId: info.id };
  switch (info.status) {
    case "running":
      if (info.health === "starting") return { ...base, state: "starting" };
      if (info.health === "unhealthy") return { ...base, state: "unhealthy", reason: "health check failing" };
      return { ...base, state: "running" };
    case "created":
      return { ...base, state: "starting" };
    case "stopped":
      return {
        ...base,
        state: "exited",
        exitCode: info.exitCode ?? 0,
        ...(info.oomKilled ? { reason: "killed by the kernel's OOM killer (memory limit)" } : {}),
      };
    default:
      return null;
  }
}

export function sameStatus(a: TaskStatusEntry, b: TaskStatusEntry): boolean {
  return (
    a.state === b.state &&
    a.containerId === b.containerId &&
    a.exitCode === b.exitCode &&
    a.reason === b.reason
  );
}

export function failed(taskId: string, reason: string, containerId?: string): TaskStatusEntry {
  return {
    taskId,
    state: "failed",
    reason: reason.slice(0, REASON_MAX),
    ...(containerId ? { containerId } : {}),
  };
}

export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
