import {
  type Change,
  createJoinToken,
  defaultTeamId,
  deployStack,
  getStack,
  listStackTasks,
  rollbackStack,
  SYSTEM_ACTOR,
  scaleService,
  setHostAvailability,
} from "@berth/control";
import { schema } from "@berth/db";
import { AGENT_PATH, PROTOCOL_VERSION, type Tasks } from "@berth/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { sampleFacts } from "../../../../packages/control/src/test-support.ts";
import { waitFor } from "../../../../test/support/wait.ts";
import type { RunningControlPlane } from "./control-plane.ts";
import { startTestControlPlane } from "./testing.ts";

/**
 * Stacks end to end through the real control plane — orchestrator,
 * scheduler, dispatcher, node monitor — with scripted agents on the real
 * protocol: each runs what it is sent (reports it running), except images
 * named bad:* which fail at once. The lab tests do the same with real hosts.
 */
let cp: RunningControlPlane;
let teamId: string;

interface ScriptedAgent {
  hostId: string;
  running: () => Map<string, string>;
  kill(): void;
}

async function scriptedAgent(labels: Record<string, string> = {}): Promise<ScriptedAgent> {
  const db = cp.cp.database.db;
  const { token } = await createJoinToken(db, SYSTEM_ACTOR, {});
  const ws = new WebSocket(cp.url.replace("http", "ws") + AGENT_PATH);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const running = new Map<string, string>(); // taskId → image
  let hostId = "";
  let seq = 0;
  const welcomed = new Promise<void>((resolve) => {
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data));
      if (frame.type === "welcome") {
        hostId = frame.hostId;
        resolve();
      }
      if (frame.type === "tasks") {
        const set = frame as Tasks;
        const statuses = [];
        const wanted = new Set(set.tasks.map((t) => t.taskId));
        for (const [id] of running) {
          if (!wanted.has(id)) {
            running.delete(id);
            statuses.push({ taskId: id, state: "shutdown" as const });
          }
        }
        for (const t of set.tasks) {
          if (t.spec.image.startsWith("bad:")) {
            statuses.push({ taskId: t.taskId, state: "failed" as const, exitCode: 1, reason: "it is bad" });
          } else if (!running.has(t.taskId)) {
            running.set(t.taskId, t.spec.image);
            statuses.push({ taskId: t.taskId, state: "running" as const, containerId: `c-${t.taskId}` });
          }
        }
        ws.send(JSON.stringify({ type: "task-status", tasksVersion: set.version, statuses }));
      }
    });
  });
  ws.send(
    JSON.stringify({
      type: "hello",
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: "test",
      auth: { kind: "join", token },
      facts: sampleFacts(),
    }),
  );
  await welcomed;
  await db.update(schema.hosts).set({ labels }).where(eq(schema.hosts.id, hostId));
  const beat = setInterval(() => ws.send(JSON.stringify({ type: "heartbeat", seq: seq++ })), 300);
  return {
    hostId,
    running: () => running,
    kill() {
      clearInterval(beat);
      ws.terminate();
    },
  };
}

const agents: ScriptedAgent[] = [];

beforeAll(async () => {
  cp = await startTestControlPlane({ orchestratorIntervalMs: 200 });
  teamId = await defaultTeamId(cp.cp.database.db);
  for (const zone of ["a", "b", "c"]) agents.push(await scriptedAgent({ zone }));
});

afterAll(async () => {
  for (const a of agents) a.kill();
  await cp.stop();
});

const yaml = (webImage: string, webReplicas = 3) => `
name: shop-${suffix}
services:
  web:
    image: ${webImage}
    ports: ["8080:80"]
    deploy:
      replicas: ${webReplicas}
      update_config: { parallelism: 1, monitor: 500ms, failure_action: rollback }
      rollback_config: { parallelism: 0, monitor: 500ms }
  api:
    image: api:1
    deploy: { replicas: 2, placement: { constraints: ["node.labels.zone != c"] } }
  db:
    image: postgres:16
    deploy: { placement: { constraints: ["node.labels.zone == c"] } }
`;
const suffix = Math.random().toString(36).slice(2, 8);
const stackName = `shop-${suffix}`;

async function liveTasks() {
  return listStackTasks(cp.cp.database.db, teamId, stackName);
}

async function allRunning(expected: number) {
  const tasks = await liveTasks();
  return tasks.length === expected && tasks.every((t) => t.observed === "running") ? tasks : null;
}

describe("stacks across hosts", () => {
  it("deploys three services over three hosts, honouring ports and constraints", async () => {
    const deployed = await deployStack({ db: cp.cp.database.db, feed: cp.cp.feed }, SYSTEM_ACTOR, {
      teamId,
      yaml: yaml("web:1"),
    });
    expect(deployed.revision).toBe(1);
    expect(deployed.plan.services.map((s) => [s.name, s.action])).toEqual([
      ["api", "create"],
      ["db", "create"],
      ["web", "create"],
    ]);
    const tasks = await waitFor("six tasks running", () => allRunning(6));
    const zoneOf = new Map(agents.map((a, i) => [a.hostId, ["a", "b", "c"][i]]));
    const web = tasks.filter((t) => t.service === "web");
    // Port 8080 can be bound once per host: the three replicas are on three hosts.
    expect(new Set(web.map((t) => t.hostId)).size).toBe(3);
    expect(tasks.filter((t) => t.service === "api").every((t) => zoneOf.get(t.hostId!) !== "c")).toBe(true);
    expect(tasks.filter((t) => t.service === "db").map((t) => zoneOf.get(t.hostId!))).toEqual(["c"]);
    // The agents really were sent them.
    const sent = agents.reduce((n, a) => n + a.running().size, 0);
    expect(sent).toBe(6);
  });

  it("scales up and down", async () => {
    const deps = { db: cp.cp.database.db, feed: cp.cp.feed };
    await scaleService(deps, SYSTEM_ACTOR, { teamId, stack: stackName, service: "api", replicas: 4 });
    await waitFor("eight tasks running", () => allRunning(8));
    const scaledDown = await scaleService(deps, SYSTEM_ACTOR, {
      teamId,
      stack: stackName,
      service: "api",
      replicas: 1,
    });
    expect(scaledDown.revision).toBe(3);
    await waitFor("five tasks running", () => allRunning(5));
    await waitFor(
      "the agents to stop what was scaled away",
      () => agents.reduce((n, a) => n + a.running().size, 0) === 5,
    );
  });

  it("rolls a failing update back on its own", async () => {
    const deps = { db: cp.cp.database.db, feed: cp.cp.feed };
    await deployStack(deps, SYSTEM_ACTOR, {
      teamId,
      yaml: yaml("bad:2").replace("replicas: 2,", "replicas: 1,"),
    });
    await waitFor(
      "web to be rolled back",
      async () => {
        const stack = await getStack(cp.cp.database.db, teamId, stackName);
        return stack.services.find((s) => s.name === "web")?.updateState === "rolled_back";
      },
      20_000,
    );
    const tasks = await waitFor("five tasks running", () => allRunning(5));
    expect(tasks.filter((t) => t.service === "web").every((t) => t.image === "web:1")).toBe(true);
  });

  it("drains a host: its tasks move away, what fits nowhere waits with the reason", async () => {
    const db = cp.cp.database.db;
    const drained = agents[1]!;
    await setHostAvailability(db, SYSTEM_ACTOR, drained.hostId, "drain");
    await cp.cp.feed.publish({ topic: "hosts", id: drained.hostId });
    const waiting = await waitFor("the drained host's tasks to move or wait", async () => {
      const tasks = await liveTasks();
      if (tasks.some((t) => t.hostId === drained.hostId)) return null;
      const pending = tasks.filter((t) => t.observed === "pending");
      return pending.length === 1 && pending[0]?.reason?.startsWith("no host can run it") ? pending : null;
    });
    // Two hosts left for three replicas of web, each binding 8080: one waits, and says why.
    expect(waiting[0]).toMatchObject({ service: "web" });
    expect(waiting[0]?.reason).toContain("port 8080/tcp in use");
    await waitFor("the drained agent to stop its tasks", () => drained.running().size === 0);
    await setHostAvailability(db, SYSTEM_ACTOR, drained.hostId, "active");
    await cp.cp.feed.publish({ topic: "hosts", id: drained.hostId });
    await waitFor("every task running again", () => allRunning(5));
  });

  it("replaces the tasks of a host that goes silent on the others", async () => {
    const victim = agents[0]!;
    const before = (await liveTasks()).filter((t) => t.hostId === victim.hostId).length;
    expect(before).toBeGreaterThan(0);
    const killedAt = Date.now();
    victim.kill();
    const tasks = await waitFor(
      "the lost tasks to be replaced on the other hosts",
      async () => {
        const live = await liveTasks();
        const onVictim = live.filter((t) => t.hostId === victim.hostId);
        const running = live.filter((t) => t.observed === "running");
        // Five tasks; web's three replicas each bind 8080, so with two hosts one of them waits.
        return onVictim.length === 0 && live.length === 5 && running.length === 4 ? live : null;
      },
      20_000,
    );
    expect(tasks.find((t) => t.observed !== "running")).toMatchObject({
      service: "web",
      observed: "pending",
    });
    // TTL 3 s + grace: well within TTL + 10 s.
    expect(Date.now() - killedAt).toBeLessThan(13_000);
    const [host] = await cp.cp.database.db
      .select()
      .from(schema.hosts)
      .where(eq(schema.hosts.id, victim.hostId));
    expect(host?.state).toBe("down");
  });

  it("rolls the whole stack back to revision 1", async () => {
    const deps = { db: cp.cp.database.db, feed: cp.cp.feed };
    const rolled = await rollbackStack(deps, SYSTEM_ACTOR, { teamId, name: stackName, to: 1 });
    expect(rolled.revision).toBe(5);
    const stack = await getStack(cp.cp.database.db, teamId, stackName);
    expect(stack.services.map((s) => [s.name, s.replicas])).toEqual([
      ["api", 2],
      ["db", 1],
      ["web", 3],
    ]);
  });

  it("announces a waiting task's new reason on the feed, so pages showing it refetch", async () => {
    const db = cp.cp.database.db;
    const feed = cp.cp.feed;
    const name = `waits-${suffix}`;
    await deployStack({ db, feed }, SYSTEM_ACTOR, {
      teamId,
      yaml: `
name: ${name}
services:
  w:
    image: w:1
    deploy: { placement: { constraints: ["node.labels.zone == d", "node.labels.disk == ssd"] } }
`,
    });
    const reasonNow = async () => (await listStackTasks(db, teamId, name))[0]?.reason ?? null;
    await waitFor("the task to wait with a reason", reasonNow);
    // Changes are heard in the order they were sent: what follows the marker is new.
    const heard: Change[] = [];
    let lastStacksChange = Date.now();
    const unsubscribe = feed.subscribe((change) => {
      heard.push(change);
      if (change.topic === "stacks") lastStacksChange = Date.now();
    });
    try {
      // The earlier tests' tasks still report in for a while, and each report is a stacks change.
      await waitFor("no stacks change for 1 s", () => Date.now() - lastStacksChange > 1000, 20_000);
      const marker = `marker-${suffix}`;
      await feed.publish({ topic: "hosts", id: marker });
      await waitFor("the marker", () => heard.some((c) => c.id === marker));
      // Host c now passes the first constraint and fails the second: only the reason changes.
      const host = agents[2]!;
      await db
        .update(schema.hosts)
        .set({ labels: { zone: "d" } })
        .where(eq(schema.hosts.id, host.hostId));
      await feed.publish({ topic: "hosts", id: host.hostId });
      await waitFor("the reason to name the second constraint", async () =>
        (await reasonNow())?.includes("node.labels.disk == ssd not met"),
      );
      await waitFor("a stacks change after the marker", () => {
        const after = heard.slice(heard.findIndex((c) => c.id === marker) + 1);
        return after.some((c) => c.topic === "stacks");
      });
    } finally {
      unsubscribe();
    }
  });
});
