/**
 * Task statuses to the control plane: changes batched over a short window
 * (the latest state per task wins), and the full set on every welcome. When
 * the socket is down a batch is dropped — the next welcome's full report
 * carries it (level-triggered).
 */
import type { TaskStatus, TaskStatusEntry } from "@berth/protocol";

/** The protocol's bound on statuses per frame. */
export const MAX_STATUSES_PER_FRAME = 10_000;

export interface StatusReporterOptions {
  /** The version of the task set the statuses are against. */
  version(): number;
  /** Every status the runner knows. */
  statuses(): TaskStatusEntry[];
  /** Send a frame; false when there is no connection. */
  send(frame: TaskStatus): boolean;
  /** How long changes are gathered before they are sent (default 100 ms). */
  debounceMs?: number;
}

export interface StatusReporter {
  /** A task's status changed. */
  changed(entry: TaskStatusEntry): void;
  /** Send every status now (on welcome). */
  sendAll(): void;
  /** Send the gathered changes now. */
  flush(): void;
  stop(): void;
}

export function createStatusReporter(o: StatusReporterOptions): StatusReporter {
  const pending = new Map<string, TaskStatusEntry>();
  let timer: NodeJS.Timeout | null = null;

  const send = (statuses: TaskStatusEntry[]) => {
    // A version below 0 means no set is held yet: statuses of adopted containers go against 0.
    const tasksVersion = Math.max(0, o.version());
    for (let i = 0; i < statuses.length || i === 0; i += MAX_STATUSES_PER_FRAME) {
      const chunk = statuses.slice(i, i + MAX_STATUSES_PER_FRAME);
      if (!o.send({ type: "task-status", tasksVersion, statuses: chunk })) return;
    }
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (pending.size === 0) return;
    const statuses = [...pending.values()];
    pending.clear();
    send(statuses);
  };

  return {
    changed(entry) {
      pending.set(entry.taskId, entry);
      if (!timer) {
        timer = setTimeout(flush, o.debounceMs ?? 100);
        timer.unref();
      }
    },
    sendAll() {
      if (timer) clearTimeout(timer);
      timer = null;
      pending.clear();
      send(o.statuses());
    },
    flush,
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      pending.clear();
    },
  };
}
