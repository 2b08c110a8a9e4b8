import { type ChildProcess, spawn } from "node:child_process";
import type { TaskStatusEntry } from "@berth/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ServerSide, startTestControlPlane, type TestControlPlane } from "../testing/control-plane.ts";
import { AGENT_BUNDLE, createTestEngine, type TestEngine } from "../testing/engine.ts";
import { describeRoot } from "../testing/root.ts";
import { until, withTimeout } from "../testing/wait.ts";
import { desiredTask } from "./testing.ts";

// The daemon (the built berth-agent) acting on task sets from a scripted control plane:
// statuses on the wire, the set kept across an agent restart, containers outliving the agent.
let engine: TestEngine;
let server: TestControlPlane;
const agents: ChildProcess[] = [];

function startAgent(): ChildProcess {
  const child = spawn(
    process.execPath,
    [AGENT_BUNDLE, "--state-dir", engine.stateDir, "--server", server.url, "--log-level", "warn"],
    { env: { ...process.env, BERTH_JOIN_TOKEN: "bjt_join-token-0123456789abcdef" }, stdio: "ignore" },
  );
  agents.push(child);
  return child;
}

async function welcomed(what: string): Promise<ServerSide> {
  const side = await server.nextConnection(what, 15_000);
  await side.frames.next(`${what}: hello`, 15_000);
  side.send({
    type: "welcome",
    hostId: "host_daemon",
    credential: "bhc_daemon-secret-0123456789abcdef",
    heartbeatIntervalMs: 60_000,
    hostTtlMs: 180_000,
    serverVersion: "test",
  });
  return side;
}

/** Frames until `done` holds for the latest status per task. */
async function statuses(side: ServerSide, done: (m: Map<string, TaskStatusEntry>) => boolean, what: string) {
  const latest = new Map<string, TaskStatusEntry>();
  const deadline = Date.now() + 30_000;
  while (!done(latest)) {
    const { frame } = await side.frames.next(what, Math.max(1, deadline - Date.now()));
    if (frame.type === "task-status")
      for (const s of frame.statuses as TaskStatusEntry[]) latest.set(s.taskId, s);
  }
  return latest;
}

describeRoot("berth-agent daemon running its task set (real containers)", () => {
  beforeAll(async () => {
    engine = await createTestEngine();
    server = await startTestControlPlane();
  }, 60_000);
  afterAll(async () => {
    for (const a of agents) a.kill("SIGKILL");
    await server?.close();
    await engine?.cleanup();
  }, 60_000);

  it("runs the set it is sent, keeps it across a restart, and removes what leaves it", async () => {
    const first = startAgent();
    const side = await welcomed("the agent's first connection");
    const task = desiredTask(1, { image: engine.image, command: ["sleep", "600"], stopGracePeriodMs: 1000 });
    side.send({ type: "tasks", version: 1, tasks: [task] });
    const seen = await statuses(side, (m) => m.get("task_1")?.state === "running", "task_1 running");
    const containerId = seen.get("task_1")!.containerId!;
    expect((await engine.runtime.inspect(containerId)).status).toBe("running");

    // The agent dies; its container does not. A new agent reports it at once, from the stored set.
    first.kill("SIGKILL");
    await withTimeout(new Promise((r) => first.once("exit", r)), 10_000, "the first agent to exit");
    expect((await engine.runtime.inspect(containerId)).status).toBe("running");
    startAgent();
    const again = await welcomed("the restarted agent's connection");
    const { frame: full } = await again.frames.next("the full status after the welcome", 15_000);
    expect(full).toMatchObject({
      type: "task-status",
      tasksVersion: 1,
      statuses: [{ taskId: "task_1", state: "running", containerId }],
    });

    again.send({ type: "tasks", version: 2, tasks: [] });
    await statuses(again, (m) => m.get("task_1")?.state === "shutdown", "task_1 shut down");
    await until("the container removed", async () => (await engine.runtime.list({ all: true })).length === 0);
  }, 90_000);
});
