import type { ServiceSpec } from "@berth/spec";

/**
 * The orchestrator's view of one service and its tasks, and what it decides.
 * Times are epoch milliseconds so the logic is pure and testable with a
 * fake clock.
 */
export type UpdateState = "completed" | "updating" | "paused" | "rolling_back" | "rolled_back";

export type TaskObserved =
  | "pending"
  | "assigned"
  | "pulling"
  | "starting"
  | "running"
  | "unhealthy"
  | "exited"
  | "failed"
  | "lost"
  | "shutdown";

export interface ServiceView {
  id: string;
  name: string;
  spec: ServiceSpec;
  generation: number;
  digest: string;
  /** What an automatic rollback restores; absent for a new service. */
  previousSpec?: ServiceSpec;
  updateState: UpdateState;
  updateStartedAt?: number;
}

export interface TaskView {
  id: string;
  slot: number;
  digest: string;
  hostId?: string;
  desired: "running" | "shutdown";
  observed: TaskObserved;
  exitCode?: number;
  createdAt: number;
  /** When it was last seen starting to run (observed running). */
  startedAt?: number;
  /** When it ended (exited, failed, lost, shutdown). */
  finishedAt?: number;
}

export interface CreateTask {
  slot: number;
  /** Global services: the host this slot is. */
  hostId?: string;
  reason: string;
}

export interface ShutdownTask {
  taskId: string;
  reason: string;
}

export interface Decision {
  create: CreateTask[];
  shutdown: ShutdownTask[];
  /** A new update state, with a message for events and the dashboard. */
  update?: { state: UpdateState; message: string };
  /** Restore previousSpec (failure_action: rollback). */
  rollback?: { reason: string };
  /** Run again at this time even if nothing changes (a delay or a monitor window ends). */
  wakeAt?: number;
}

/** Observed states of a task that is not running and never will again. */
export const ENDED = ["exited", "failed", "lost", "shutdown"] as const satisfies readonly TaskObserved[];
export const TERMINAL: ReadonlySet<TaskObserved> = new Set(ENDED);
