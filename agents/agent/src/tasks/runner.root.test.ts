import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { createRegistryClient } from "@berth/oci";
import type { TaskStatusEntry } from "@berth/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createImageStore } from "../images/index.ts";
import { createNetworkManager } from "../network/index.ts";
import { startSupervisor } from "../supervisor/supervisor.ts";
import { createTestEngine, type TestEngine } from "../testing/engine.ts";
import { describeRoot } from "../testing/root.ts";
import { until } from "../testing/wait.ts";
import { createVolumeStore } from "../volumes/index.ts";
import { createLocalDriver } from "./driver.ts";
import { createTaskSetStore } from "./persist.ts";
import { createTaskRunner, type TaskRunner } from "./runner.ts";
import { desiredTask } from "./testing.ts";

const log = pino({ level: process.env.TASKS_DEBUG ? "debug" : "silent" });
let engine: TestEngine;
let supervisor: { stop(): Promise<void> };
let runner: TaskRunner;
const reported: TaskStatusEntry[] = [];
const statesOf = (taskId: string) => reported.filter((s) => s.taskId === taskId).map((s) => s.state);

// httpd in the background; the shell (pid 1) ends with 7 on the task's stop signal.
const WEB =
  "echo ok > /tmp/index.html; httpd -p 8080 -h /tmp; trap 'exit 7' USR1; while true; do sleep 0.2; done";

describeRoot("task runner (real containers)", () => {
  beforeAll(async () => {
    engine = await createTestEngine();
    const network = createNetworkManager({
      stateDir: engine.stateDir,
      log,
      bridgeName: engine.bridge,
      subnet: engine.subnet,
    });
    // The daemon's supervisor runs the health checks; the runner reads their outcome.
    supervisor = startSupervisor({ runtime: engine.runtime, network, log, intervalMs: 100 });
    runner = createTaskRunner({
      driver: createLocalDriver({
        runtime: engine.runtime,
        images: createImageStore(engine.stateDir),
        volumes: createVolumeStore(engine.stateDir),
        registry: () => createRegistryClient({ insecure: () => true }),
      }),
      log,
      store: createTaskSetStore(engine.stateDir),
      syncIntervalMs: 100,
      onStatus: (s) => reported.push(s),
    });
    await runner.start();
  }, 60_000);
  afterAll(async () => {
    await runner?.stop();
    await supervisor?.stop();
    await engine?.cleanup();
  }, 60_000);

  it("runs a busybox task: starting, running once healthy; removed from the set → stopped and removed, nothing left", async () => {
    const task = desiredTask(1, {
      image: engine.image,
      command: ["sh", "-c", WEB],
      healthcheck: {
        test: ["CMD-SHELL", "wget -qO- http://127.0.0.1:8080/index.html"],
        intervalMs: 200,
        timeoutMs: 5000, // this machine is shared: a slow probe is not the point here
        retries: 3,
        startPeriodMs: 0,
      },
      mounts: [{ type: "volume", source: "shop_data", target: "/data", readOnly: false }],
      ports: [{ target: 8080, published: 18_000 + Math.floor(Math.random() * 2000), protocol: "tcp" }],
      limits: { memoryBytes: 64 * 1024 * 1024, pids: 100 },
      stopGracePeriodMs: 20_000,
      stopSignal: "SIGUSR1",
    });
    runner.setTasks({ version: 1, tasks: [task] });
    await until("the task running (healthy)", () => runner.status("task_1")?.state === "running", 30_000);
    expect(statesOf("task_1")).toEqual(["pending", "starting", "running"]);
    const id = runner.status("task_1")!.containerId!;
    const info = await engine.runtime.inspect(id);
    expect(info).toMatchObject({ status: "running", health: "healthy" });
    expect(info.config.labels).toMatchObject({ "berth.task.id": "task_1", "berth.stack": "shop" });
    const page = await fetch(`http://${info.ipAddress}:8080/index.html`).then((r) => r.text());
    expect(page).toBe("ok\n");
    expect((await createVolumeStore(engine.stateDir).inspect("shop_data")).name).toBe("shop_data");

    const stopAt = Date.now();
    runner.setTasks({ version: 2, tasks: [] });
    await until("the task shut down", () => runner.status("task_1")?.state === "shutdown", 30_000);
    // Stopped by its own signal well within the grace period, not killed at its end.
    expect(runner.status("task_1")).toMatchObject({ state: "shutdown", containerId: id, exitCode: 7 });
    expect(Date.now() - stopAt).toBeLessThan(10_000);
    expect(await engine.runtime.list({ all: true })).toEqual([]);
    const mounts = await readFile("/proc/self/mounts", "utf8");
    expect(mounts).not.toContain(id);
    const netns = await readdir("/run/netns").catch(() => [] as string[]);
    expect(netns.filter((n) => n.includes(id.slice(0, 12)))).toEqual([]);
    const stored = JSON.parse(await readFile(path.join(engine.stateDir, "tasks", "desired.json"), "utf8"));
    expect(stored).toEqual({ version: 2, tasks: [] });
  }, 60_000);

  it("reports a real exit with its code and does not restart it; an unreachable registry fails the task", async () => {
    runner.setTasks({
      version: 3,
      tasks: [
        desiredTask(2, { image: engine.image, command: ["sh", "-c", "exit 3"] }),
        desiredTask(3, { image: "127.0.0.1:1/nothing/here:1" }),
      ],
    });
    await until("task 2 exited", () => runner.status("task_2")?.state === "exited", 30_000);
    expect(runner.status("task_2")).toMatchObject({ exitCode: 3 });
    await until("task 3 failed", () => runner.status("task_3")?.state === "failed", 30_000);
    expect(runner.status("task_3")?.reason).toMatch(/could not pull 127\.0\.0\.1:1\/nothing\/here:1/);
    const [c] = await engine.runtime.list({ all: true });
    expect(c).toMatchObject({ status: "stopped", exitCode: 3, restartCount: 0 });
    runner.setTasks({ version: 4, tasks: [] });
    await until("nothing left", async () => (await engine.runtime.list({ all: true })).length === 0, 30_000);
    await runner.idle();
    expect(runner.status("task_2")).toMatchObject({ state: "exited", exitCode: 3 }); // ended by itself
    expect(runner.status("task_3")?.state).toBe("failed");
  }, 60_000);
});
