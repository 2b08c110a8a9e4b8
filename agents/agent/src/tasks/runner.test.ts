import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TaskState, TaskStatusEntry } from "@berth/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSimHost, type SimHost } from "../hollow/sim-host.ts";
import { until } from "../testing/wait.ts";
import { containerNameFor, TASK_LABELS } from "./container-config.ts";
import { createTaskSetStore } from "./persist.ts";
import { createTaskRunner, type TaskRunner, type TaskRunnerOptions } from "./runner.ts";
import { desiredTask, watchedRuntime } from "./testing.ts";

const log = pino({ level: "silent" });
let dir: string;
let runners: TaskRunner[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-tasks-"));
});
afterEach(async () => {
  for (const r of runners) await r.stop();
  runners = [];
  await rm(dir, { recursive: true, force: true });
});

function setup(host: SimHost = createSimHost({ pullDelayMs: 5 }), options: Partial<TaskRunnerOptions> = {}) {
  const watched = watchedRuntime(host.runtime);
  const reported: TaskStatusEntry[] = [];
  const runner = createTaskRunner({
    driver: { ...host.driver, runtime: watched.runtime },
    log,
    syncIntervalMs: 20,
    onStatus: (s) => reported.push(s),
    ...options,
  });
  runners.push(runner);
  const statesOf = (taskId: string) => reported.filter((s) => s.taskId === taskId).map((s) => s.state);
  return { host, runner, reported, statesOf, ...watched };
}

const allIn = (runner: TaskRunner, ids: string[], state: TaskState) => () =>
  ids.every((id) => runner.status(id)?.state === state);

describe("task runner (simulated runtime)", () => {
  it("converges to the desired set: pulls, creates volumes, starts, labels and configures each task", async () => {
    const { host, runner, statesOf, overlaps } = setup();
    await runner.start();
    const tasks = [
      desiredTask(1, {
        ports: [
          { target: 80, published: 8080, protocol: "tcp" },
          { target: 443, protocol: "tcp" },
        ],
        mounts: [{ type: "volume", source: "shop_data", target: "/data", readOnly: false }],
        limits: { cpus: 0.5, memoryBytes: 64 * 1024 * 1024, pids: 100 },
        stopSignal: "SIGQUIT",
      }),
      desiredTask(2),
      desiredTask(3, { image: "registry.local/shop/api:2" }),
    ];
    expect(runner.setTasks({ version: 1, tasks })).toBe(true);
    await until("three tasks running", allIn(runner, ["task_1", "task_2", "task_3"], "running"), 5000);

    expect(statesOf("task_1")).toEqual(["pending", "pulling", "starting", "running"]);
    expect(host.pulls).toBe(2); // one pull per image, shared by the tasks that need it
    expect([...host.volumes]).toEqual(["shop_data"]);
    const containers = await host.runtime.list({ all: true });
    expect(containers).toHaveLength(3);
    const one = containers.find((c) => c.config.labels[TASK_LABELS.taskId] === "task_1")!;
    expect(one.name).toBe(containerNameFor(tasks[0]!));
    expect(one.config).toMatchObject({
      labels: { "berth.stack": "shop", "berth.service": "web", "berth.slot": "1" },
      ports: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
      resources: { cpus: 0.5, memoryBytes: 64 * 1024 * 1024, pidsLimit: 100 },
      restart: { name: "no" },
      stopSignal: "SIGQUIT",
      stopTimeoutMs: 1000,
      env: { MODE: "test" },
    });
    expect(runner.status("task_1")).toEqual({ taskId: "task_1", state: "running", containerId: one.id });
    expect(overlaps).toEqual([]);
  });

  it("removes tasks that leave the set and labelled containers of unknown tasks, reporting shutdown", async () => {
    const { host, runner, statesOf } = setup(
      createSimHost({ pullDelayMs: 5, images: ["registry.local/shop/web:1"] }),
    );
    const stray = await host.runtime.create({
      ...(await import("./container-config.ts")).toContainerConfig(desiredTask(9)),
    });
    await host.runtime.start(stray.id);
    await host.runtime.create({
      name: "not-a-task",
      image: "registry.local/shop/web:1",
      env: {},
      tty: false,
      interactive: false,
      readOnlyRootfs: false,
      resources: {},
      network: "bridge",
      ports: [],
      mounts: [],
      restart: { name: "no" },
      labels: {},
      autoRemove: false,
    });
    await runner.start();
    runner.setTasks({ version: 1, tasks: [desiredTask(1), desiredTask(2)] });
    await until("two tasks running", allIn(runner, ["task_1", "task_2"], "running"), 5000);
    await until("the stray task shut down", () => runner.status("task_9")?.state === "shutdown", 5000);

    runner.setTasks({ version: 2, tasks: [desiredTask(2)] });
    await until("task 1 shut down", () => runner.status("task_1")?.state === "shutdown", 5000);
    expect(statesOf("task_1").at(-1)).toBe("shutdown");
    const left = await host.runtime.list({ all: true });
    expect(left.map((c) => c.name).sort()).toEqual([containerNameFor(desiredTask(2)), "not-a-task"].sort());
    expect(runner.status("task_2")?.state).toBe("running");
  });

  it("reports an exit with its code and never restarts the task itself", async () => {
    const { host, runner, statesOf } = setup();
    await runner.start();
    runner.setTasks({
      version: 1,
      tasks: [desiredTask(1, { command: ["sh", "-c", "sleep 0.05; exit 3"] })],
    });
    await until("task 1 exited", () => runner.status("task_1")?.state === "exited", 5000);
    expect(runner.status("task_1")).toMatchObject({ state: "exited", exitCode: 3 });
    await new Promise((r) => setTimeout(r, 100));
    await runner.sync();
    const [c] = await host.runtime.list({ all: true });
    expect(c).toMatchObject({ status: "stopped", restartCount: 0 });
    expect(statesOf("task_1").filter((s) => s === "running")).toHaveLength(1);
    expect(statesOf("task_1").at(-1)).toBe("exited");

    // Leaving the set, an ended task's container goes, and its state stays what it did (the
    // orchestrator's restart policy counts exits; a `shutdown` would hide this one).
    runner.setTasks({ version: 2, tasks: [] });
    await until(
      "the exited container removed",
      async () => (await host.runtime.list({ all: true })).length === 0,
      5000,
    );
    await runner.idle();
    expect(runner.status("task_1")).toMatchObject({ state: "exited", exitCode: 3 });
    expect(statesOf("task_1").at(-1)).toBe("exited");
  });

  it("reports running only once the health check passes, and unhealthy when it fails", async () => {
    const { runner, statesOf } = setup();
    await runner.start();
    const check = (script: string) => ({
      test: ["CMD-SHELL", script],
      intervalMs: 50,
      timeoutMs: 50,
      retries: 2,
      startPeriodMs: 0,
    });
    runner.setTasks({
      version: 1,
      tasks: [
        desiredTask(1, { healthcheck: check("exit 0") }),
        desiredTask(2, { healthcheck: check("exit 1") }),
      ],
    });
    await until("task 1 healthy", () => runner.status("task_1")?.state === "running", 5000);
    await until("task 2 unhealthy", () => runner.status("task_2")?.state === "unhealthy", 5000);
    expect(statesOf("task_1")).toEqual(["pending", "pulling", "starting", "running"]);
    expect(statesOf("task_2")).not.toContain("running");
  });

  it("reports a bad image as failed with the reason and does not retry it", async () => {
    const { host, runner } = setup();
    await runner.start();
    runner.setTasks({ version: 1, tasks: [desiredTask(1, { image: "registry.local/shop/missing:1" })] });
    await until("task 1 failed", () => runner.status("task_1")?.state === "failed", 5000);
    expect(runner.status("task_1")?.reason).toMatch(
      /could not pull registry\.local\/shop\/missing:1: .*no image/,
    );
    await runner.sync();
    await runner.idle();
    expect(host.pulls).toBe(1);
    expect(await host.runtime.list({ all: true })).toEqual([]);
  });

  it("survives a restart: the stored set is loaded and the running containers are adopted, not recreated", async () => {
    const host = createSimHost({ pullDelayMs: 5 });
    const store = createTaskSetStore(dir);
    const first = setup(host, { store });
    await first.runner.start();
    first.runner.setTasks({ version: 4, tasks: [desiredTask(1), desiredTask(2)] });
    await until("both running", allIn(first.runner, ["task_1", "task_2"], "running"), 5000);
    const ids = (await host.runtime.list()).map((c) => c.id).sort();
    await first.runner.stop();
    expect(await host.runtime.list()).toHaveLength(2); // a stopped runner stops nothing

    const second = setup(host, { store });
    await second.runner.start();
    expect(second.runner.version).toBe(4);
    await until("adopted tasks running", allIn(second.runner, ["task_1", "task_2"], "running"), 5000);
    expect(second.calls.filter((c) => c.startsWith("create"))).toEqual([]);
    expect((await host.runtime.list()).map((c) => c.id).sort()).toEqual(ids);
    expect(second.runner.setTasks({ version: 4, tasks: [] })).toBe(false); // the same version again
    second.runner.setTasks({ version: 5, tasks: [desiredTask(2)] });
    await until("task 1 shut down", () => second.runner.status("task_1")?.state === "shutdown", 5000);
  });

  it("lets a new host's sets through when the stored set was another host's (the machine joined again)", async () => {
    const host = createSimHost({ pullDelayMs: 5 });
    const store = createTaskSetStore(dir);
    await store.save({ hostId: "host_old", version: 9, tasks: [desiredTask(1)] });
    const same = setup(host, { store });
    await same.runner.start();
    same.runner.setHost("host_old");
    expect(same.runner.setTasks({ version: 3, tasks: [] })).toBe(false);
    await same.runner.stop();

    const rejoined = setup(host, { store });
    await rejoined.runner.start();
    await until("the stored task running", () => rejoined.runner.status("task_1")?.state === "running", 5000);
    rejoined.runner.setHost("host_new");
    expect(rejoined.runner.setTasks({ version: 1, tasks: [desiredTask(2)] })).toBe(true);
    await until("task 2 running", () => rejoined.runner.status("task_2")?.state === "running", 5000);
    await rejoined.runner.stop();
    expect(await store.load()).toMatchObject({ hostId: "host_new", version: 1 });
  });

  it("takes sets arriving back to back: ends on the newest, ignores an older one, never overlaps operations", async () => {
    const { host, runner, overlaps } = setup(createSimHost({ pullDelayMs: 20 }), { concurrency: 3 });
    await runner.start();
    const range = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => desiredTask(from + i));
    runner.setTasks({ version: 1, tasks: range(1, 10) });
    runner.setTasks({ version: 2, tasks: range(5, 15) });
    await new Promise((r) => setTimeout(r, 10));
    runner.setTasks({ version: 3, tasks: range(8, 12) });
    expect(runner.setTasks({ version: 2, tasks: range(1, 20) })).toBe(false);
    const wanted = range(8, 12).map((t) => t.taskId);
    await until("tasks 8–12 running", allIn(runner, wanted, "running"), 5000);
    await until(
      "only tasks 8–12 have containers",
      async () => (await host.runtime.list({ all: true })).length === 5,
      5000,
    );
    const names = (await host.runtime.list({ all: true }))
      .map((c) => c.config.labels[TASK_LABELS.taskId])
      .sort();
    expect(names).toEqual([...wanted].sort());
    for (const id of ["task_1", "task_5", "task_15"]) expect(runner.status(id)?.state).toBe("shutdown");
    expect(overlaps).toEqual([]);
  });

  it("a set arriving while a task pulls: the same task again still starts; a task removed is never created", async () => {
    const { host, runner, calls } = setup(createSimHost({ pullDelayMs: 50 }));
    await runner.start();
    runner.setTasks({
      version: 1,
      tasks: [desiredTask(1), desiredTask(2, { image: "registry.local/other:1" })],
    });
    await until(
      "both pulling",
      () => runner.status("task_1")?.state === "pulling" && runner.status("task_2")?.state === "pulling",
    );
    runner.setTasks({ version: 2, tasks: [desiredTask(1)] }); // task 1 as a new object, task 2 gone
    await until("task 1 running", () => runner.status("task_1")?.state === "running", 5000);
    await until("task 2 shut down", () => runner.status("task_2")?.state === "shutdown", 5000);
    await runner.idle();
    expect(calls.filter((c) => c.startsWith("create"))).toEqual([
      `create ${containerNameFor(desiredTask(1))}`,
    ]);
    expect((await host.runtime.list({ all: true })).map((c) => c.name)).toEqual([
      containerNameFor(desiredTask(1)),
    ]);
  });

  it("keeps to its concurrency limit", async () => {
    let inFlight = 0;
    let most = 0;
    const host = createSimHost({ pullDelayMs: 10 });
    const pull = host.driver.pull;
    host.driver.pull = async (ref) => {
      most = Math.max(most, ++inFlight);
      await pull(ref).finally(() => inFlight--);
    };
    const { runner } = setup(host, { concurrency: 2 });
    await runner.start();
    const tasks = Array.from({ length: 8 }, (_, i) => desiredTask(i, { image: `registry.local/app${i}:1` }));
    runner.setTasks({ version: 1, tasks });
    await until(
      "eight tasks running",
      allIn(
        runner,
        tasks.map((t) => t.taskId),
        "running",
      ),
      5000,
    );
    expect(most).toBe(2);
  });
});
