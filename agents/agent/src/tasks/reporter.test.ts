import type { TaskStatus, TaskStatusEntry } from "@berth/protocol";
import { taskStatusSchema } from "@berth/protocol";
import { describe, expect, it } from "vitest";
import { createStatusReporter, MAX_STATUSES_PER_FRAME } from "./reporter.ts";

function setup(connected = true, all: TaskStatusEntry[] = []) {
  const frames: TaskStatus[] = [];
  const state = { connected };
  const reporter = createStatusReporter({
    version: () => 7,
    statuses: () => all,
    send: (frame) => {
      if (!state.connected) return false;
      frames.push(taskStatusSchema.parse(frame));
      return true;
    },
    debounceMs: 20,
  });
  return { reporter, frames, state };
}

describe("task status reporter", () => {
  it("batches changes over its window, the latest state per task winning", async () => {
    const { reporter, frames } = setup();
    reporter.changed({ taskId: "a", state: "pulling" });
    reporter.changed({ taskId: "b", state: "pending" });
    reporter.changed({ taskId: "a", state: "starting", containerId: "c1" });
    expect(frames).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(frames).toEqual([
      {
        type: "task-status",
        tasksVersion: 7,
        statuses: [
          { taskId: "a", state: "starting", containerId: "c1" },
          { taskId: "b", state: "pending" },
        ],
      },
    ]);
  });

  it("drops a batch while disconnected; the full report on the next welcome carries it", async () => {
    const all: TaskStatusEntry[] = [{ taskId: "a", state: "running", containerId: "c1" }];
    const { reporter, frames, state } = setup(false, all);
    reporter.changed({ taskId: "a", state: "running", containerId: "c1" });
    reporter.flush();
    expect(frames).toEqual([]);
    state.connected = true;
    reporter.sendAll();
    expect(frames).toEqual([{ type: "task-status", tasksVersion: 7, statuses: all }]);
  });

  it("sends an empty full report too (the control plane learns the host runs nothing), and splits large ones", () => {
    const many = Array.from({ length: MAX_STATUSES_PER_FRAME + 5 }, (_, i) => ({
      taskId: `t${i}`,
      state: "running" as const,
    }));
    const empty = setup(true, []);
    empty.reporter.sendAll();
    expect(empty.frames).toEqual([{ type: "task-status", tasksVersion: 7, statuses: [] }]);
    const big = setup(true, many);
    big.reporter.sendAll();
    expect(big.frames.map((f) => f.statuses.length)).toEqual([MAX_STATUSES_PER_FRAME, 5]);
  });
});
