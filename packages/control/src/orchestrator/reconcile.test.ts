import { parseStackOrThrow, type ServiceSpec, templateDigest } from "@berth/spec";
import { describe, expect, it } from "vitest";
import { reconcileService } from "./reconcile.ts";
import type { ServiceView, TaskView } from "./types.ts";

function spec(deploy = "", image = "web:1"): ServiceSpec {
  const yaml = `name: s\nservices:\n  web:\n    image: ${image}\n    deploy:\n      replicas: 3\n${deploy}`;
  return parseStackOrThrow(yaml).services.web!;
}

function service(s: ServiceSpec, extra: Partial<ServiceView> = {}): ServiceView {
  return {
    id: "svc",
    name: "web",
    spec: s,
    generation: 1,
    digest: templateDigest(s),
    updateState: "completed",
    ...extra,
  };
}

let n = 0;
function task(slot: number, digest: string, extra: Partial<TaskView> = {}): TaskView {
  n += 1;
  return {
    id: `t${n}`,
    slot,
    digest,
    desired: "running",
    observed: "running",
    createdAt: 0,
    startedAt: 0,
    hostId: "h1",
    ...extra,
  };
}

const T = 1_000_000;

describe("reconcileService: replicas", () => {
  const s = service(spec());

  it("creates one task per missing slot", () => {
    const d = reconcileService(s, [task(2, s.digest)], T);
    expect(d.create.map((c) => c.slot)).toEqual([1, 3]);
    expect(d.shutdown).toEqual([]);
  });

  it("shuts down the slots above the replica count", () => {
    const one = service(spec("      replicas: 1\n".replace("replicas: 1", "mode: replicated")), {});
    const scaled = { ...one, spec: { ...one.spec, deploy: { ...one.spec.deploy, replicas: 1 } } };
    const d = reconcileService(scaled, [task(1, one.digest), task(2, one.digest), task(3, one.digest)], T);
    expect(d.shutdown.map((x) => x.reason)).toEqual(["scaled down", "scaled down"]);
    expect(d.create).toEqual([]);
  });

  it("keeps one task per slot when a slot has two", () => {
    const a = task(1, s.digest, { observed: "running", createdAt: 1 });
    const b = task(1, s.digest, { observed: "starting", createdAt: 2 });
    const d = reconcileService(s, [a, b, task(2, s.digest), task(3, s.digest)], T);
    expect(d.shutdown).toEqual([{ taskId: b.id, reason: "duplicate task for its slot" }]);
  });

  it("does nothing when every slot runs", () => {
    const d = reconcileService(
      s,
      [1, 2, 3].map((i) => task(i, s.digest)),
      T,
    );
    expect(d).toEqual({ create: [], shutdown: [] });
  });
});

describe("reconcileService: restarts", () => {
  it("replaces an exited task after the restart delay, not before", () => {
    const s = service(spec("      restart_policy: { condition: any, delay: 5s }\n"));
    const ended = task(1, s.digest, { observed: "exited", exitCode: 0, finishedAt: T - 1000 });
    const early = reconcileService(s, [ended, task(2, s.digest), task(3, s.digest)], T);
    expect(early.create).toEqual([]);
    expect(early.wakeAt).toBe(T + 4000);
    const late = reconcileService(s, [ended, task(2, s.digest), task(3, s.digest)], T + 4000);
    expect(late.create).toMatchObject([{ slot: 1, reason: "restart after exit code 0" }]);
    expect(late.shutdown).toEqual([{ taskId: ended.id, reason: "exit code 0; replaced" }]);
  });

  it("on-failure leaves a clean exit alone and restarts a failure", () => {
    const s = service(spec("      restart_policy: { condition: on-failure, delay: 0s }\n"));
    const others = [task(2, s.digest), task(3, s.digest)];
    const clean = task(1, s.digest, { observed: "exited", exitCode: 0, finishedAt: T });
    expect(reconcileService(s, [clean, ...others], T).create).toEqual([]);
    const crash = task(1, s.digest, { observed: "exited", exitCode: 2, finishedAt: T });
    expect(reconcileService(s, [crash, ...others], T).create).toHaveLength(1);
  });

  it("stops restarting after max_attempts within the window", () => {
    const s = service(
      spec("      restart_policy: { condition: any, delay: 0s, max_attempts: 2, window: 1m }\n"),
    );
    const others = [task(2, s.digest), task(3, s.digest)];
    const fails = [1, 2, 3].map((i) =>
      task(1, s.digest, {
        observed: "failed",
        finishedAt: T - i * 1000,
        desired: i === 1 ? "running" : "shutdown",
      }),
    );
    expect(reconcileService(s, [...fails, ...others], T).create).toEqual([]);
    // Outside the window they no longer count.
    expect(reconcileService(s, [...fails, ...others], T + 120_000).create).toHaveLength(1);
  });

  it("replaces a task on a lost host at once, whatever the policy", () => {
    const s = service(spec("      restart_policy: { condition: none }\n"));
    const lost = task(1, s.digest, { observed: "lost", finishedAt: T });
    const d = reconcileService(s, [lost, task(2, s.digest), task(3, s.digest)], T);
    expect(d.create).toMatchObject([{ slot: 1, reason: "its host was lost" }]);
    expect(d.shutdown).toEqual([{ taskId: lost.id, reason: "host lost; replaced" }]);
  });
});

describe("reconcileService: rolling updates", () => {
  const v1 = spec(
    "      update_config: { parallelism: 1, delay: 10s, monitor: 5s, failure_action: rollback }\n",
  );
  const v2 = spec(
    "      update_config: { parallelism: 1, delay: 10s, monitor: 5s, failure_action: rollback }\n",
    "web:2",
  );
  const d1 = templateDigest(v1);
  const updating = service(v2, {
    generation: 2,
    updateState: "updating",
    updateStartedAt: T,
    previousSpec: v1,
  });

  it("stop-first: stops one old task, waits for it, then starts its replacement", () => {
    const old = [1, 2, 3].map((i) => task(i, d1));
    const first = reconcileService(updating, old, T);
    expect(first.shutdown).toEqual([{ taskId: old[0]!.id, reason: "update to generation 2" }]);
    expect(first.create).toEqual([]);

    const stopping = [{ ...old[0]!, desired: "shutdown" as const }, old[1]!, old[2]!];
    expect(reconcileService(updating, stopping, T + 100)).toMatchObject({ create: [], shutdown: [] });

    const stopped = [
      { ...old[0]!, desired: "shutdown" as const, observed: "shutdown" as const },
      old[1]!,
      old[2]!,
    ];
    expect(reconcileService(updating, stopped, T + 200).create).toMatchObject([{ slot: 1 }]);
  });

  it("waits for the batch to be stable for monitor, then for delay, before the next", () => {
    const fresh = task(1, updating.digest, { createdAt: T + 200, startedAt: T + 1000 });
    const tasks = [fresh, task(2, d1), task(3, d1)];
    const watching = reconcileService(updating, tasks, T + 3000);
    expect(watching.shutdown).toEqual([]);
    expect(watching.wakeAt).toBe(T + 6000);
    const delaying = reconcileService(updating, tasks, T + 7000);
    expect(delaying.shutdown).toEqual([]);
    expect(delaying.wakeAt).toBe(T + 16_000);
    const next = reconcileService(updating, tasks, T + 16_000);
    expect(next.shutdown.map((s) => s.taskId)).toEqual([tasks[1]!.id]);
  });

  it("start-first: starts the new task beside the old, and stops the old once the new is stable", () => {
    const v2sf = spec("      update_config: { order: start-first, monitor: 1s }\n", "web:2");
    const s = service(v2sf, { generation: 2, updateState: "updating", updateStartedAt: T });
    const old = [1, 2, 3].map((i) => task(i, d1));
    const first = reconcileService(s, old, T);
    expect(first.create).toMatchObject([{ slot: 1 }]);
    expect(first.shutdown).toEqual([]);
    const beside = task(1, s.digest, { createdAt: T, startedAt: T + 100 });
    const later = reconcileService(s, [beside, ...old], T + 2000);
    expect(later.shutdown).toContainEqual({
      taskId: old[0]!.id,
      reason: "replaced by its update (start-first)",
    });
  });

  it("rolls back when an updated task fails and failure_action is rollback", () => {
    const bad = task(1, updating.digest, { createdAt: T + 1, observed: "failed", finishedAt: T + 500 });
    const d = reconcileService(updating, [bad, task(2, d1), task(3, d1)], T + 1000);
    expect(d.rollback?.reason).toContain("1 of 1 updated tasks failed");
  });

  it("pauses when failure_action is pause, and stays paused", () => {
    const pausing = service(spec("", "web:2"), {
      generation: 2,
      updateState: "updating",
      updateStartedAt: T,
    });
    const bad = task(1, pausing.digest, { createdAt: T + 1, observed: "unhealthy" });
    const d = reconcileService(pausing, [bad, task(2, d1), task(3, d1)], T + 1000);
    expect(d.update).toEqual({ state: "paused", message: "update paused: 1 of 1 updated tasks failed" });
    const paused = { ...pausing, updateState: "paused" as const };
    const healthy = { ...bad, observed: "running" as const };
    expect(reconcileService(paused, [healthy, task(2, d1), task(3, d1)], T + 2000).shutdown).toEqual([]);
  });

  it("completes when every slot runs the new spec and is stable", () => {
    const all = [1, 2, 3].map((i) => task(i, updating.digest, { createdAt: T + i, startedAt: T + i }));
    expect(reconcileService(updating, all, T + 60_000).update).toEqual({
      state: "completed",
      message: "update completed",
    });
  });

  it("starts an update on its own when tasks are out of date", () => {
    const d = reconcileService(
      service(v2, { generation: 2 }),
      [1, 2, 3].map((i) => task(i, d1)),
      T,
    );
    expect(d.update?.state).toBe("updating");
    expect(d.shutdown).toHaveLength(1);
  });
});

describe("reconcileService: global services", () => {
  const g = service(
    parseStackOrThrow("name: s\nservices:\n  agent:\n    image: a:1\n    deploy: { mode: global }\n").services
      .agent!,
  );

  it("runs one task per eligible host and stops those on hosts no longer eligible", () => {
    const onGone = task(0, g.digest, { hostId: "gone" });
    const onA = task(0, g.digest, { hostId: "a" });
    const d = reconcileService(g, [onGone, onA], T, { globalHosts: ["a", "b"] });
    expect(d.create).toMatchObject([{ hostId: "b" }]);
    expect(d.shutdown).toEqual([{ taskId: onGone.id, reason: "host no longer eligible" }]);
  });
});
