import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCredential } from "../state.ts";
import { desiredTask } from "../tasks/testing.ts";
import { type ServerSide, startTestControlPlane, type TestControlPlane } from "../testing/control-plane.ts";
import { withTimeout } from "../testing/wait.ts";
import { createHollowFleet, type HollowFleet } from "./fleet.ts";

const HOSTS = 20;
const log = pino({ level: "silent" });
let server: TestControlPlane;
let dir: string;
let fleet: HollowFleet | null = null;

beforeEach(async () => {
  server = await startTestControlPlane();
  dir = await mkdtemp(path.join(tmpdir(), "berth-hollow-"));
});
afterEach(async () => {
  await fleet?.stop();
  fleet = null;
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

type Frame = Record<string, unknown>;
type Status = { taskId: string; state: string; exitCode?: number; reason?: string };

/** Statuses as the control plane would keep them: the latest per task, from the frames of one connection. */
async function statusesUntil(side: ServerSide, done: (latest: Map<string, Status>) => boolean, what: string) {
  const latest = new Map<string, Status>();
  const deadline = Date.now() + 10_000;
  while (!done(latest)) {
    const { frame } = await side.frames.next(what, Math.max(1, deadline - Date.now()));
    if (frame.type !== "task-status") continue;
    for (const s of frame.statuses as Status[]) latest.set(s.taskId, s);
  }
  return latest;
}

describe("hollow agents", () => {
  it(`${HOSTS} hollow hosts join over the real protocol, run their task sets and report every state`, async () => {
    fleet = createHollowFleet({
      count: HOSTS,
      server: server.url,
      joinToken: "bjt_join-token-0123456789abcdef",
      stateDir: dir,
      log,
      rampMs: 1,
      pullDelayMs: 5,
      syncIntervalMs: 200,
    });
    const running = fleet.run();
    const sides: ServerSide[] = [];
    const hostnames: string[] = [];
    for (let i = 0; i < HOSTS; i++) {
      const side = await server.nextConnection(`hollow host connection ${i}`, 5000);
      const { frame: hello } = await side.frames.next(`hello ${i}`);
      expect(hello).toMatchObject({ type: "hello", auth: { kind: "join" } });
      const facts = hello.facts as Frame;
      hostnames.push(facts.hostname as string);
      expect(facts.cpus).toBeGreaterThan(0);
      side.send({
        type: "welcome",
        hostId: `host_${facts.hostname}`,
        credential: `bhc_secret-for-${facts.hostname}-0123456789`,
        heartbeatIntervalMs: 60_000,
        hostTtlMs: 180_000,
        serverVersion: "test",
      });
      sides.push(side);
    }
    // A sorted copy: `hostnames` stays in the order of `sides`.
    expect([...hostnames].sort()).toEqual(Array.from({ length: HOSTS }, (_, i) => `hollow-${i}`).sort());

    // Each host: a set of three tasks, one of them with an image the registry lacks.
    const tasksFor = (h: number) => [
      desiredTask(1, {}, { taskId: `t_${h}_1` }),
      desiredTask(2, { command: ["sh", "-c", "exit 4"] }, { taskId: `t_${h}_2` }),
      desiredTask(3, { image: "registry.local/shop/missing:1" }, { taskId: `t_${h}_3` }),
    ];
    for (const [h, side] of sides.entries()) side.send({ type: "tasks", version: 1, tasks: tasksFor(h) });
    await withTimeout(
      Promise.all(
        sides.map(async (side, h) => {
          const latest = await statusesUntil(
            side,
            (m) =>
              m.get(`t_${h}_1`)?.state === "running" &&
              m.has(`t_${h}_2`) &&
              m.has(`t_${h}_3`) &&
              m.get(`t_${h}_2`)?.state === "exited" &&
              m.get(`t_${h}_3`)?.state === "failed",
            `host ${h}'s task statuses`,
          );
          expect(latest.get(`t_${h}_2`)).toMatchObject({ state: "exited", exitCode: 4 });
          expect(latest.get(`t_${h}_3`)?.reason).toMatch(/could not pull/);
        }),
      ),
      15_000,
      "every hollow host to report its tasks",
    );

    for (let i = 0; i < HOSTS; i++) {
      const credential = await loadCredential(path.join(dir, `hollow-${i}`));
      expect(credential?.hostId).toBe(`host_hollow-${i}`);
    }
    const host0 = fleet.hosts[0]!;
    expect(host0.sim.runtime.size).toBe(2);

    // A reconnect gets the full picture again, against the set's version.
    const side0 = sides[hostnames.indexOf("hollow-0")] ?? sides[0]!;
    side0.ws.close(1001, "restarting");
    const again = await server.nextConnection("hollow-0 reconnecting", 5000);
    const { frame: hello } = await again.frames.next("hello again");
    expect(hello).toMatchObject({ auth: { kind: "credential", hostId: "host_hollow-0" } });
    again.send({
      type: "welcome",
      hostId: "host_hollow-0",
      heartbeatIntervalMs: 60_000,
      hostTtlMs: 180_000,
      serverVersion: "test",
    });
    const { frame: full } = await again.frames.next("the full status after the welcome", 5000);
    expect(full).toMatchObject({ type: "task-status", tasksVersion: 1 });
    expect((full.statuses as Status[]).map((s) => s.state).sort()).toEqual(["exited", "failed", "running"]);

    await fleet.stop();
    await withTimeout(running, 5000, "the fleet to stop");
    fleet = null;
  });
});
