import { randomBytes } from "node:crypto";
import pg from "pg";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { waitFor } from "../../../../test/support/wait.ts";
import { type LeaderElection, type LeaderTask, runAsLeader } from "./election.ts";
import { currentLeader } from "./lock.ts";

const log = pino({ level: "silent" });
const RETRY_MS = 300;
let pool: pg.Pool;
const elections: LeaderElection[] = [];

/** A task that counts how often it runs: `active` is true between a start and its stop. */
function probe() {
  const state = { starts: 0, stops: 0, active: false };
  const task: LeaderTask = {
    name: "probe",
    start() {
      state.starts++;
      state.active = true;
      return {
        stop() {
          state.stops++;
          state.active = false;
        },
      };
    },
  };
  return { state, task };
}

function replica(name: string, identity: string) {
  const p = probe();
  const election = runAsLeader({
    databaseUrl: inject("databaseUrl"),
    name,
    identity,
    retryIntervalMs: RETRY_MS,
    checkIntervalMs: RETRY_MS,
    tasks: [p.task],
    log,
  });
  elections.push(election);
  return { election, probe: p.state };
}

const uniqueName = () => `test-leadership-${randomBytes(6).toString("hex")}`;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject("databaseUrl"), max: 2 });
});

afterEach(async () => {
  await Promise.all(elections.splice(0).map((e) => e.stop()));
});

afterAll(async () => {
  await pool.end();
});

describe("runAsLeader", () => {
  it("lets exactly one of two replicas lead, and shows which in pg_locks", async () => {
    const name = uniqueName();
    const a = replica(name, "replica-a");
    const b = replica(name, "replica-b");
    await waitFor("one replica to lead", () => a.election.isLeader() || b.election.isLeader(), 5000);
    // Give the follower several chances to (wrongly) take the lock too.
    await new Promise((r) => setTimeout(r, RETRY_MS * 4));
    const leaders = [a, b].filter((r) => r.election.isLeader());
    expect(leaders).toHaveLength(1);
    const [leader] = leaders;
    const follower = leader === a ? b : a;
    expect(leader!.probe).toMatchObject({ starts: 1, active: true });
    expect(follower.probe).toMatchObject({ starts: 0, active: false });
    expect(await currentLeader(pool, name)).toMatchObject({ identity: leader!.election.identity });
  });

  it("hands over within the retry interval when the leader's connection is killed", async () => {
    const name = uniqueName();
    const first = replica(name, "first");
    await waitFor("the first replica to lead", () => first.election.isLeader(), 5000);
    const second = replica(name, "second");
    await new Promise((r) => setTimeout(r, RETRY_MS * 2));
    expect(second.election.isLeader()).toBe(false);

    const held = await currentLeader(pool, name);
    expect(held?.identity).toBe("first");
    const changes: boolean[] = [];
    first.election.onChange((leading) => changes.push(leading));
    const killedAt = Date.now();
    await pool.query("select pg_terminate_backend($1)", [held!.pid]);

    await waitFor(
      "the second replica to take over",
      () => second.election.isLeader(),
      RETRY_MS * 2 + 2000,
      10,
    );
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(RETRY_MS + 1000);
    await waitFor("the first replica to stop its tasks", () => !first.probe.active, 2000, 10);
    expect(first.probe).toMatchObject({ starts: 1, stops: 1 });
    expect(changes[0]).toBe(false);
    expect(second.probe).toMatchObject({ starts: 1, active: true });
    expect((await currentLeader(pool, name))?.identity).toBe("second");
    // The first reconnects as a follower and stays one.
    await new Promise((r) => setTimeout(r, RETRY_MS * 3));
    expect(first.election.isLeader()).toBe(false);
    expect(first.probe.starts).toBe(1);
  });

  it("releases the lock on stop, so another replica takes over", async () => {
    const name = uniqueName();
    const a = replica(name, "stopping");
    await waitFor("the replica to lead", () => a.election.isLeader(), 5000);
    const b = replica(name, "waiting");
    await a.election.stop();
    expect(a.probe).toMatchObject({ starts: 1, stops: 1, active: false });
    await waitFor("the waiting replica to lead", () => b.election.isLeader(), RETRY_MS * 2 + 2000, 10);
    expect((await currentLeader(pool, name))?.identity).toBe("waiting");
    await b.election.stop();
    expect(await currentLeader(pool, name)).toBeNull();
  });

  it("keeps separate leaderships apart", async () => {
    const a = replica(uniqueName(), "one");
    const b = replica(uniqueName(), "other");
    await waitFor(
      "both to lead their own leadership",
      () => a.election.isLeader() && b.election.isLeader(),
      5000,
    );
  });
});
