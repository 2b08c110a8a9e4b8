import type { StackPlan } from "@berth/spec";
import { describe, expect, it } from "vitest";
import { changedServices, rolloutError, rolloutState, taskTransitions, watchRollout } from "./rollout.ts";
import type { ServiceRow, TaskRow } from "./stacks.ts";

const at = "2025-06-01T12:00:00.000Z";
function task(over: Partial<TaskRow>): TaskRow {
  return {
    id: "tsk_1",
    service: "web",
    slot: 1,
    generation: 1,
    hostId: null,
    hostName: null,
    desired: "running",
    observed: "pending",
    reason: null,
    exitCode: null,
    containerId: null,
    createdAt: at,
    updatedAt: at,
    image: "web:1",
    ...over,
  } as TaskRow;
}
function service(over: Partial<ServiceRow>): ServiceRow {
  return {
    id: "svc_1",
    name: "web",
    image: "web:1",
    mode: "replicated",
    replicas: 2,
    running: 0,
    generation: 1,
    updateState: "completed",
    updateMessage: null,
    ports: [],
    ...over,
  };
}
const plan: StackPlan = {
  stack: "shop",
  empty: false,
  services: [
    {
      name: "web",
      action: "create",
      changes: [],
      replicas: { from: 0, to: 2 },
      restarts: 0,
      starts: 2,
      stops: 0,
    },
    {
      name: "api",
      action: "update",
      changes: [{ field: "deploy.replicas", from: 1, to: 2, restarts: false }],
      replicas: { from: 1, to: 2 },
      restarts: 0,
      starts: 1,
      stops: 0,
    },
  ],
};

describe("taskTransitions", () => {
  it("prints new tasks and changes of state, desire or host, with the reason", () => {
    const before = new Map([["tsk_1", task({ observed: "pending" })]]);
    const lines = taskTransitions(before, [
      task({ observed: "running", hostName: "web-1" }),
      task({ id: "tsk_2", slot: 2, reason: "no host can run it (port 80/tcp in use)" }),
      task({ id: "tsk_3", slot: 3, observed: "failed", exitCode: 1, reason: "it is bad" }),
    ]);
    expect(lines).toEqual([
      "web.1  tsk_1  pending → running on web-1",
      "web.2  tsk_2  new → pending: no host can run it (port 80/tcp in use)",
      "web.3  tsk_3  new → failed: exit 1: it is bad",
    ]);
  });

  it("prints nothing when nothing it shows changed", () => {
    const t = task({ reason: "a" });
    expect(taskTransitions(new Map([[t.id, t]]), [{ ...t, reason: "b" }])).toEqual([]);
  });
});

describe("rolloutState", () => {
  const changed = changedServices(plan);

  it("judges update failures only for services whose tasks the plan replaces", () => {
    expect([...changed]).toEqual(["web"]);
    const paused = rolloutState(
      [service({ updateState: "paused", updateMessage: "2 tasks failed" })],
      [],
      changed,
    );
    expect(paused).toEqual({ state: "paused", waiting: ["web: update paused: 2 tasks failed"] });
    // api's old rollback is not this deploy's doing.
    const api = service({ name: "api", replicas: 1, running: 1, updateState: "rolled_back" });
    expect(rolloutState([api], [task({ service: "api", observed: "running" })], changed).state).toBe(
      "running",
    );
  });

  it("waits for replicas, naming the first task that is not running", () => {
    const r = rolloutState(
      [service({ running: 1 })],
      [task({ observed: "running" }), task({ id: "tsk_2", slot: 2, reason: "no hosts have joined" })],
      changed,
    );
    expect(r).toEqual({
      state: "progressing",
      waiting: ["web: 1/2 running; web.2 pending: no hosts have joined"],
    });
  });

  it("waits while an update is in progress, even with enough replicas", () => {
    const r = rolloutState([service({ running: 2, updateState: "updating" })], [], changed);
    expect(r.waiting).toEqual(["web: 2/2 running, updating"]);
  });
});

describe("watchRollout", () => {
  it("prints transitions until every service runs, then says so", async () => {
    const looks = [
      { services: [service({})], tasks: [task({})] },
      {
        services: [service({ running: 2 })],
        tasks: [
          task({ observed: "running", hostName: "h1" }),
          task({ id: "tsk_2", slot: 2, observed: "running", hostName: "h2" }),
        ],
      },
    ];
    let n = 0;
    const lines: string[] = [];
    const outcome = await watchRollout(
      {
        services: async () => looks[Math.min(n, 1)]!.services,
        tasks: async () => looks[Math.min(n++, 1)]!.tasks,
      },
      { plan, baseline: [], timeoutMs: 10_000, intervalMs: 1, now: () => 0, onLine: (l) => lines.push(l) },
    );
    expect(outcome.state).toBe("running");
    expect(lines).toEqual([
      "web.1  tsk_1  new → pending",
      "web.1  tsk_1  pending → running on h1",
      "web.2  tsk_2  new → running on h2",
    ]);
    expect(rolloutError("shop", outcome, 10_000)).toBeNull();
  });

  it("gives up at the timeout with what it waited for", async () => {
    let now = 0;
    const outcome = await watchRollout(
      { services: async () => [service({})], tasks: async () => [] },
      { plan, baseline: [], timeoutMs: 3000, intervalMs: 1, now: () => (now += 1000), onLine: () => {} },
    );
    expect(outcome).toMatchObject({ state: "timeout", waiting: ["web: 0/2 running"] });
    const err = rolloutError("shop", outcome, 3000);
    expect(err?.code).toBe("FailedPrecondition");
    expect(err?.message).toBe("shop is not running after 3s (web: 0/2 running); the deploy goes on");
  });

  it("stops when the signal aborts", async () => {
    const controller = new AbortController();
    const watching = watchRollout(
      { services: async () => [service({})], tasks: async () => [] },
      {
        plan,
        baseline: [],
        timeoutMs: 60_000,
        intervalMs: 50,
        now: () => 0,
        signal: controller.signal,
        onLine: () => {},
      },
    );
    controller.abort();
    await expect(watching).rejects.toThrow(/abort/i);
  });
});
