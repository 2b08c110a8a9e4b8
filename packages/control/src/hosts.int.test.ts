import { createDb, type Database, schema } from "@berth/db";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SYSTEM_ACTOR } from "./events.ts";
import { authenticateHost, getHost, joinHost, recordHeartbeat } from "./hosts.ts";
import { createJoinToken } from "./join-tokens.ts";
import { markSilentHostsDown } from "./node-monitor.ts";
import { sampleFacts } from "./test-support.ts";

let database: Database;
beforeAll(() => {
  database = createDb(inject("databaseUrl"));
});
afterAll(() => database.close());

async function newHost() {
  const { token } = await createJoinToken(database.db, SYSTEM_ACTOR, {});
  const agent = { facts: sampleFacts(), agentVersion: "test", address: "10.0.0.1" };
  return { ...(await joinHost(database.db, token, agent)), agent };
}

async function eventsOf(hostId: string) {
  const rows = await database.db
    .select({ kind: schema.events.kind })
    .from(schema.events)
    .where(and(eq(schema.events.subjectType, "host"), eq(schema.events.subjectId, hostId)))
    .orderBy(schema.events.id);
  return rows.map((r) => r.kind);
}

async function age(hostId: string, ms: number) {
  await database.db
    .update(schema.hosts)
    .set({ lastSeenAt: sql`now() - make_interval(secs => ${ms / 1000})` })
    .where(eq(schema.hosts.id, hostId));
}

describe("hosts", () => {
  it("stores the facts a joining agent reports", async () => {
    const { hostId, agent } = await newHost();
    const host = await getHost(database.db, hostId);
    expect(host).toMatchObject({ name: agent.facts.hostname, state: "ready", cpus: 2, address: "10.0.0.1" });
    expect(host.facts.runtime).toEqual({ name: "runc", version: "1.1.5" });
    expect(await eventsOf(hostId)).toEqual(["host.joined"]);
  });

  it("accepts only the host's own credential", async () => {
    const a = await newHost();
    const b = await newHost();
    await expect(authenticateHost(database.db, a.hostId, a.credential, a.agent)).resolves.toBeTruthy();
    await expect(authenticateHost(database.db, a.hostId, b.credential, a.agent)).rejects.toMatchObject({
      code: "PermissionDenied",
    });
    await expect(authenticateHost(database.db, "host_nope", a.credential, a.agent)).rejects.toMatchObject({
      code: "PermissionDenied",
    });
  });

  it("marks a silent host down after its TTL and ready again on its next heartbeat", async () => {
    const { hostId } = await newHost();
    expect(await markSilentHostsDown(database.db, 60_000)).not.toContain(hostId);
    await age(hostId, 120_000);
    expect(await markSilentHostsDown(database.db, 60_000)).toContain(hostId);
    expect((await getHost(database.db, hostId)).state).toBe("down");
    // A second pass does not record the same transition again.
    expect(await markSilentHostsDown(database.db, 60_000)).not.toContain(hostId);

    expect(await recordHeartbeat(database.db, hostId)).toBe(true);
    expect((await getHost(database.db, hostId)).state).toBe("ready");
    expect(await recordHeartbeat(database.db, hostId)).toBe(false);
    expect(await eventsOf(hostId)).toEqual(["host.joined", "host.down", "host.ready"]);
  });

  it("brings a down host back when it reconnects with its credential", async () => {
    const { hostId, credential, agent } = await newHost();
    await age(hostId, 120_000);
    await markSilentHostsDown(database.db, 60_000);
    const { cameBack } = await authenticateHost(database.db, hostId, credential, agent);
    expect(cameBack).toBe(true);
    expect((await getHost(database.db, hostId)).state).toBe("ready");
  });

  it("reports an unknown host as NotFound", async () => {
    await expect(getHost(database.db, "host_missing")).rejects.toMatchObject({ code: "NotFound" });
  });
});
