import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSimHost } from "../hollow/sim-host.ts";
import { until } from "../testing/wait.ts";
import { containerNameFor } from "./container-config.ts";
import { createTaskRunner, type TaskRunner } from "./runner.ts";
import { desiredTask, watchedRuntime } from "./testing.ts";

// Found by the lab stack test: a host that comes back after it was marked down receives a set without its
// lost tasks and with their replacements. When a replacement publishes the host port a lost task's
// container still holds, starting it while the old container is still being stopped fails on runc ("host
// port 8080/tcp is already published by container …"): the task is reported failed and the control plane
// starts another one after the restart delay. The old container must be gone before the new one starts.
const log = pino({ level: "silent" });
let dir: string;
let runner: TaskRunner | null = null;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-port-handover-"));
});
afterEach(async () => {
  await runner?.stop();
  runner = null;
  await rm(dir, { recursive: true, force: true });
});

describe("a host port handed from a task leaving the set to one joining it", () => {
  it("removes the old container before it starts the new one", async () => {
    const host = createSimHost({ pullDelayMs: 5 });
    const watched = watchedRuntime(host.runtime);
    // Stopping takes a while, as a real stop does (grace period, network detach).
    const runtime = Object.create(watched.runtime) as typeof watched.runtime;
    runtime.stop = async (id, o) => {
      await new Promise((r) => setTimeout(r, 300));
      return watched.runtime.stop(id, o);
    };
    runner = createTaskRunner({
      driver: { ...host.driver, runtime },
      log,
      syncIntervalMs: 20,
      onStatus: () => {},
    });
    await runner.start();
    const port = { ports: [{ target: 80, published: 8080, protocol: "tcp" as const }] };
    const old = desiredTask(1, port);
    runner.setTasks({ version: 1, tasks: [old] });
    await until("the old task running", () => runner?.status("task_1")?.state === "running", 5000);

    const replacement = desiredTask(2, port);
    runner.setTasks({ version: 2, tasks: [replacement] });
    const removeOld = `remove ${containerNameFor(old)}`;
    const startNew = `start ${containerNameFor(replacement)}`;
    await until(
      "the replacement running and the old container removed",
      () => runner?.status("task_2")?.state === "running" && watched.calls.includes(removeOld),
      5000,
    );
    const handover = watched.calls.filter((c) => c === removeOld || c === startNew);
    expect(handover).toEqual([removeOld, startNew]);
  });
});
