import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../../test/support/wait.ts";
import type { RunningControlPlane } from "./control-plane.ts";
import { startTestControlPlane } from "./testing.ts";

// Two control-plane replicas on one database: one leads the loops, /healthz says which.
const leadership = `test-replicas-${randomBytes(6).toString("hex")}`;
const running: RunningControlPlane[] = [];

async function healthz(cp: RunningControlPlane) {
  const res = await fetch(`${cp.url}/healthz`);
  expect(res.status).toBe(200);
  return (await res.json()) as { leader: { identity: string | null; self: boolean; replica: string } };
}

afterAll(async () => {
  await Promise.all(running.map((cp) => cp.stop()));
});

describe("control-plane replicas", () => {
  it("elect one leader, shown by every replica's /healthz, and hand over when it stops", async () => {
    const first = await startTestControlPlane({ leadership, leaderIdentity: "replica-1" });
    running.push(first);
    await waitFor("replica-1 to lead", () => first.cp.leader!.isLeader(), 5000);
    const second = await startTestControlPlane({ leadership, leaderIdentity: "replica-2" });
    running.push(second);
    await new Promise((r) => setTimeout(r, 750));
    expect(second.cp.leader!.isLeader()).toBe(false);
    expect((await healthz(first)).leader).toEqual({
      identity: "replica-1",
      self: true,
      replica: "replica-1",
    });
    expect((await healthz(second)).leader).toEqual({
      identity: "replica-1",
      self: false,
      replica: "replica-2",
    });

    await first.stop();
    await waitFor("replica-2 to take over", () => second.cp.leader!.isLeader(), 3000, 10);
    expect((await healthz(second)).leader).toEqual({
      identity: "replica-2",
      self: true,
      replica: "replica-2",
    });
  });
});
