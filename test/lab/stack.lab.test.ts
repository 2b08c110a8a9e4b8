import {
  defaultTeamId,
  deployStack,
  getStack,
  listEvents,
  listStackTasks,
  rollbackStack,
  SYSTEM_ACTOR,
  scaleService,
  setHostAvailability,
  stackHistory,
} from "@berth/control";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { waitFor } from "../support/wait.ts";
import {
  allOnVersion,
  containersMismatch,
  containersOf,
  envOf,
  expectAnswers,
  indexOf,
  type StackView,
  taskIdOf,
  viewStack,
  waitConverged,
} from "./stack-helpers.ts";
import { describeLab, type LabWithControlPlane, startLabWithControlPlane, waitAllReady } from "./support.ts";

// Issue 5 on real hosts: one lab of three hosts (zones a, b, c) and one control plane shared by the
// scenarios below, in order — each starts from where the one before left the stack. The control plane
// places and updates, the agents run real runc containers from a busybox image imported on every host.
const TTL_MS = 3000;
const PORT = 8080;
const ZONES = ["a", "b", "c"] as const;
const ALL = [0, 1, 2] as const;

/**
 * The stack: web (busybox httpd on a published port, health-checked, three replicas so one per host),
 * api (kept off zone c), worker (a sleep loop). Release 1 is what revision 1 deploys; release 2 changes
 * every service (VERSION in the environment, api's command) and breaks web: it listens on another port
 * than its health check (and its published port) expects. api and worker stop at once on SIGTERM.
 */
function stackYaml(name: string, o: { release: 1 | 2; worker: number }): string {
  const webPort = o.release === 2 ? PORT + 1 : PORT;
  return `
name: ${name}
x-common: &common
  image: busybox
  environment: { VERSION: "${o.release}" }
  stop_grace_period: 1s
services:
  web:
    <<: *common
    command: ["httpd", "-f", "-p", "${webPort}", "-h", "/etc"]
    ports: ["${PORT}:${PORT}"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${PORT}/passwd"]
      interval: 1s
      timeout: 3s
      retries: 3
    deploy:
      replicas: 3
      update_config: { parallelism: 1, monitor: 1s, order: stop-first, failure_action: rollback }
      rollback_config: { parallelism: 0, monitor: 1s }
  api:
    <<: *common
    command: ["sh", "-c", "${apiScript(o.release)}"]
    deploy:
      replicas: 2
      placement: { constraints: ["node.labels.zone != c"] }
      update_config: { parallelism: 0, monitor: 500ms }
  worker:
    <<: *common
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 3600 & wait; done"]
    deploy:
      replicas: ${o.worker}
      update_config: { parallelism: 0, monitor: 500ms }
`;
}
const apiScript = (release: number) => `trap 'exit 0' TERM; echo api v${release}; sleep 3600 & wait`;

describeLab("a three-service stack on three lab hosts", () => {
  let env: LabWithControlPlane;
  let teamId = "";
  const stack = `shop-${Math.random().toString(36).slice(2, 8)}`;
  const deps = () => ({ db: env.cp.cp.database.db, feed: env.cp.cp.feed });

  beforeAll(async () => {
    env = await startLabWithControlPlane({
      hosts: 3,
      hostTtlMs: TTL_MS,
      controlPlane: { orchestratorIntervalMs: 200 },
      labels: (i) => ({ zone: ZONES[i]! }),
    });
    await Promise.all(env.lab.hosts.map((h) => h.importBusybox("busybox")));
    teamId = await defaultTeamId(env.cp.cp.database.db);
    await waitAllReady(env);
  });
  afterAll(async () => {
    await env?.stop();
  });

  let started = 0;
  const timed = () => {
    started = Date.now();
    onTestFailed(async () => {
      const view = await viewStack(env, teamId, stack, ALL).catch(() => null);
      if (view) process.stderr.write(`--- tasks\n${JSON.stringify(view.tasks, null, 1)}\n`);
      for (const host of env.lab.hosts) {
        const log = (await host.agentLog()).slice(-3000);
        process.stderr.write(`--- agent log of ${host.name} (tail)\n${log}\n`);
      }
    });
  };
  const note = (what: string) => process.stderr.write(`lab: ${what} after ${Date.now() - started} ms\n`);

  const converged = (
    what: string,
    want: Record<string, number>,
    o: { hosts?: readonly number[]; check?: (view: StackView) => string | null } = {},
  ) => waitConverged(env, teamId, stack, what, want, { hosts: ALL, ...o });
  const expectWebAnswers = (view: StackView) => expectAnswers(env, view, "web", `:${PORT}/passwd`, "root:");
  const service = async (name: string) =>
    (await getStack(env.cp.cp.database.db, teamId, stack)).services.find((s) => s.name === name)!;

  it("deploys web, api and worker over three hosts: constraints hold, the port answers on every web host", async () => {
    timed();
    const deployed = await deployStack(deps(), SYSTEM_ACTOR, {
      teamId,
      yaml: stackYaml(stack, { release: 1, worker: 3 }),
    });
    expect(deployed.revision).toBe(1);
    const view = await converged("web 3, api 2, worker 3 running", { web: 3, api: 2, worker: 3 });
    note("the stack ran");
    const hostsOf = (s: string) =>
      view.tasks.filter((t) => t.service === s).map((t) => indexOf(env, t.hostId));
    // Port 8080 binds once per host: the three web replicas are on the three hosts.
    expect(new Set(hostsOf("web"))).toEqual(new Set(ALL));
    // api stays out of zone c (host 2); spread puts its two replicas on hosts 0 and 1.
    expect(hostsOf("api").sort()).toEqual([0, 1]);
    expect(new Set(hostsOf("worker"))).toEqual(new Set(ALL));
    for (const { c } of containersOf(view, "web")) expect(c.health).toBe("healthy");
    await expectWebAnswers(view);
  });

  it("scales worker up and down: containers start and stop on the hosts", async () => {
    timed();
    await scaleService(deps(), SYSTEM_ACTOR, { teamId, stack, service: "worker", replicas: 6 });
    const up = await converged("worker scaled to 6", { web: 3, api: 2, worker: 6 });
    note("scaled up");
    const perHost = containersOf(up, "worker").map(({ index }) => index);
    expect(perHost.sort()).toEqual([0, 0, 1, 1, 2, 2]);
    const before = new Set(containersOf(up, "worker").map(({ c }) => taskIdOf(c)));

    const down = await scaleService(deps(), SYSTEM_ACTOR, { teamId, stack, service: "worker", replicas: 2 });
    expect(down.revision).toBe(3);
    started = Date.now();
    const after = await converged("worker scaled to 2", { web: 3, api: 2, worker: 2 });
    note("scaled down");
    const kept = containersOf(after, "worker").map(({ c }) => taskIdOf(c));
    // Scaling down stops four of the six; nothing new is started for the two that stay.
    expect(kept.every((id) => before.has(id))).toBe(true);
    // The stopped ones are gone from the hosts, not just stopped.
    const everything = (await Promise.all(ALL.map((i) => env.lab.host(i).containers({ all: true })))).flat();
    const leftWorkers = everything.filter((c) => before.has(taskIdOf(c)) && !kept.includes(taskIdOf(c)));
    expect(leftWorkers).toEqual([]);
  });

  it("rolls back on its own a web update whose health check fails; api and worker take the release", async () => {
    timed();
    const since = new Date(Date.now() - 1000);
    const web = await service("web");
    const release2 = await deployStack(deps(), SYSTEM_ACTOR, {
      teamId,
      yaml: stackYaml(stack, { release: 2, worker: 2 }),
    });
    expect(release2.revision).toBe(4);
    await waitFor(
      "web's update to fail and be rolled back",
      async () => (await service("web")).updateState === "rolled_back",
      60_000,
      200,
    );
    note("web rolled back");
    const view = await converged(
      "web 3 running again after the rollback, api and worker on release 2",
      { web: 3, api: 2, worker: 2 },
      {
        check: (v) =>
          containersOf(v, "web").every(({ c }) => envOf(c).VERSION === "1") &&
          [...containersOf(v, "api"), ...containersOf(v, "worker")].every(({ c }) => envOf(c).VERSION === "2")
            ? null
            : "web not all on release 1, or api and worker not all on release 2",
      },
    );
    // Release 2 of web did run, failed its health check, and caused the rollback.
    const events = await listEvents(env.cp.cp.database.db, { since, limit: 500 });
    const rollback = events.find((e) => e.kind === "service.rollback" && e.subjectId === web.id);
    expect(rollback?.message).toMatch(/update failed/);
    const unhealthy = events.filter((e) => e.kind === "task.unhealthy");
    expect(unhealthy.length).toBeGreaterThan(0);
    expect(unhealthy.every((e) => !view.tasks.some((t) => t.id === e.subjectId))).toBe(true);
    // Every web task runs the old spec: its command serves the published port, healthy, and it answers.
    for (const { c } of containersOf(view, "web")) {
      expect(c.config.command).toEqual(["httpd", "-f", "-p", String(PORT), "-h", "/etc"]);
      expect(c.health).toBe("healthy");
    }
    for (const { c } of containersOf(view, "api"))
      expect(c.config.command).toEqual(["sh", "-c", apiScript(2)]);
    expect((await service("web")).updateState).toBe("rolled_back");
    await expectWebAnswers(view);
  });

  it("rolls the whole stack back to revision 1: every service's config, env and replicas together", async () => {
    timed();
    const rolled = await rollbackStack(deps(), SYSTEM_ACTOR, { teamId, name: stack, to: 1 });
    expect(rolled.revision).toBe(5);
    // Against revision 4 every service changes (web already runs revision 1's spec again).
    expect(rolled.plan.services.map((s) => [s.name, s.action])).toEqual([
      ["api", "update"],
      ["web", "update"],
      ["worker", "update"],
    ]);
    const history = await stackHistory(env.cp.cp.database.db, teamId, stack);
    expect(history[0]).toMatchObject({ n: 5, kind: "rollback", restoredFrom: 1, current: true });
    const v1 = await converged(
      "every service back on release 1 with revision 1's replicas",
      { web: 3, api: 2, worker: 3 },
      { check: allOnVersion(1) },
    );
    note("revision 1 ran everywhere");
    for (const { c } of containersOf(v1, "api")) expect(c.config.command).toEqual(["sh", "-c", apiScript(1)]);
    const services = (await getStack(env.cp.cp.database.db, teamId, stack)).services;
    expect(services.map((s) => [s.name, s.replicas])).toEqual([
      ["api", 2],
      ["web", 3],
      ["worker", 3],
    ]);
    expect(services.find((s) => s.name === "api")?.updateState).toBe("completed");
    await expectWebAnswers(v1);
  });

  it("replaces a dead host's tasks on the others within TTL + grace; revived, it stops its stale containers", async () => {
    timed();
    // A host running a task of each service (hosts 0 and 1 run web and api; one of them a worker): api and
    // worker must move, web cannot (8080 is taken on the others).
    const before = await listStackTasks(env.cp.cp.database.db, teamId, stack);
    const dead = [1, 0].find((i) =>
      before.some((t) => t.service === "worker" && t.hostId === env.hostIds[i]),
    )!;
    const other = 1 - dead;
    const deadId = env.hostIds[dead]!;
    const stale = (await env.lab.host(dead).containers()).map(taskIdOf);
    const onDead = before.filter((t) => t.hostId === deadId);
    expect(new Set(onDead.map((t) => t.service))).toEqual(new Set(["web", "api", "worker"]));
    await env.lab.killHost(dead);
    const killedAt = Date.now();
    const db = env.cp.cp.database.db;
    // Timed on the control plane's records (polled every 100 ms): the replacements report running.
    const moved = await waitFor(
      "api and worker running on the live hosts, web's third replica waiting for a free port",
      async () => {
        const tasks = await listStackTasks(db, teamId, stack);
        const running = (s: string) =>
          tasks.filter((t) => t.service === s && t.observed === "running" && t.hostId !== deadId);
        const waiting = tasks.filter((t) => t.service === "web" && t.observed === "pending");
        return running("api").length === 2 &&
          running("worker").length === 3 &&
          running("web").length === 2 &&
          waiting.length === 1 &&
          tasks.length === 8
          ? { tasks, waiting: waiting[0]! }
          : null;
      },
      TTL_MS + 30_000,
      100,
    );
    const elapsed = Date.now() - killedAt;
    note("the dead host's tasks ran elsewhere");
    expect(elapsed).toBeLessThan(TTL_MS + 10_000);
    expect(await env.hostState(dead)).toBe("down");
    expect(moved.waiting.reason).toContain(`port ${PORT}/tcp in use`);
    // api still honours its constraint: both replicas on the other host of zones a and b, none on zone c.
    const api = moved.tasks.filter((t) => t.service === "api").map((t) => indexOf(env, t.hostId));
    expect(api).toEqual([other, other]);
    // And they are real containers on the live hosts.
    const live = await viewStack(env, teamId, stack, [other, 2]);
    expect(
      containersMismatch(env, { ...live, tasks: live.tasks.filter((t) => t.observed === "running") }),
    ).toBeNull();

    started = Date.now();
    const revivedAt = new Date(started - 1000);
    await env.lab.reviveHost(dead);
    const view = await converged("the revived host back, web 3 running and nothing stale", {
      web: 3,
      api: 2,
      worker: 3,
    });
    note("the revived host converged");
    // Its replacements started at the first try: none failed on a port the stale containers still held.
    const failed = (await listEvents(db, { since: revivedAt, limit: 500 })).filter(
      (e) => e.kind === "task.failed",
    );
    expect(failed.map((e) => e.message)).toEqual([]);
    const now = (view.containers.get(dead) ?? []).map(taskIdOf);
    expect(stale.filter((id) => now.includes(id))).toEqual([]);
    await expectWebAnswers(view);
  });

  it("drains a host: its tasks move away (what fits nowhere waits); activated, it runs tasks again", async () => {
    timed();
    const drained = 0;
    const id = env.hostIds[drained]!;
    await setHostAvailability(env.cp.cp.database.db, SYSTEM_ACTOR, id, "drain");
    await env.cp.cp.feed.publish({ topic: "hosts", id });
    const db = env.cp.cp.database.db;
    const moved = await waitFor(
      `no task left on ${env.lab.host(drained).name}, api and worker running elsewhere, one web waiting`,
      async () => {
        const tasks = await listStackTasks(db, teamId, stack);
        if (tasks.some((t) => t.hostId === id)) return null;
        const running = tasks.filter((t) => t.observed === "running");
        const waiting = tasks.filter((t) => t.observed === "pending");
        return running.length === 7 && waiting.length === 1 ? { tasks, waiting: waiting[0]! } : null;
      },
      30_000,
      100,
    );
    await waitFor(
      `${env.lab.host(drained).name} to stop its containers, the others to run the moved tasks`,
      async () => {
        const v = await viewStack(env, teamId, stack, ALL);
        return (
          containersMismatch(env, { ...v, tasks: v.tasks.filter((t) => t.observed === "running") }) === null
        );
      },
      30_000,
      300,
    );
    note("the drained host's tasks moved");
    // api can only go to zone b now; web's third replica has no free port 8080 left.
    const api = moved.tasks.filter((t) => t.service === "api").map((t) => indexOf(env, t.hostId));
    expect(api).toEqual([1, 1]);
    expect(moved.waiting).toMatchObject({ service: "web" });
    expect(moved.waiting.reason).toContain(`port ${PORT}/tcp in use`);

    started = Date.now();
    await setHostAvailability(env.cp.cp.database.db, SYSTEM_ACTOR, id, "active");
    await env.cp.cp.feed.publish({ topic: "hosts", id });
    const back = await converged("web 3 running again with the host active", { web: 3, api: 2, worker: 3 });
    note("the activated host ran web again");
    expect(
      containersOf(back, "web")
        .map(({ index }) => index)
        .sort(),
    ).toEqual([0, 1, 2]);
    await expectWebAnswers(back);
  });
});
