import { createDb, type Database, schema } from "@berth/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SYSTEM_ACTOR } from "./events.ts";
import { joinHost } from "./hosts.ts";
import { createJoinToken, listJoinTokens, revokeJoinToken } from "./join-tokens.ts";
import { sampleFacts } from "./test-support.ts";

let database: Database;
beforeAll(() => {
  database = createDb(inject("databaseUrl"));
});
afterAll(() => database.close());

const agent = () => ({ facts: sampleFacts(), agentVersion: "test", address: "127.0.0.1" });

async function hostsNamed(name: string) {
  return database.db.select().from(schema.hosts).where(eq(schema.hosts.name, name));
}

describe("join tokens", () => {
  it("lets one agent join once, and refuses the token after that without writing anything", async () => {
    const { token, id } = await createJoinToken(database.db, SYSTEM_ACTOR, { description: "once" });
    expect(token.startsWith("bjt_")).toBe(true);
    const first = agent();
    const joined = await joinHost(database.db, token, first);
    expect(joined.credential.startsWith("bhc_")).toBe(true);
    expect(await hostsNamed(first.facts.hostname)).toHaveLength(1);

    const second = agent();
    await expect(joinHost(database.db, token, second)).rejects.toMatchObject({
      code: "PermissionDenied",
      message: expect.stringContaining("already been used"),
    });
    expect(await hostsNamed(second.facts.hostname)).toHaveLength(0);
    const listed = (await listJoinTokens(database.db)).find((t) => t.id === id);
    expect(listed).toMatchObject({ uses: 1, maxUses: 1, status: "used" });
  });

  it("gives exactly one success when agents race for the last use", async () => {
    const { token } = await createJoinToken(database.db, SYSTEM_ACTOR, { maxUses: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => joinHost(database.db, token, agent())),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("refuses an unknown, revoked or expired token", async () => {
    await expect(joinHost(database.db, "bjt_not-a-real-token-at-all", agent())).rejects.toMatchObject({
      code: "PermissionDenied",
    });
    const revoked = await createJoinToken(database.db, SYSTEM_ACTOR, {});
    await revokeJoinToken(database.db, SYSTEM_ACTOR, revoked.id);
    await expect(joinHost(database.db, revoked.token, agent())).rejects.toMatchObject({
      message: expect.stringContaining("revoked"),
    });
    const expired = await createJoinToken(database.db, SYSTEM_ACTOR, { ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    await expect(joinHost(database.db, expired.token, agent())).rejects.toMatchObject({
      message: expect.stringContaining("expired"),
    });
  });

  it("allows a multi-use token exactly maxUses times", async () => {
    const { token } = await createJoinToken(database.db, SYSTEM_ACTOR, { maxUses: 2 });
    await joinHost(database.db, token, agent());
    await joinHost(database.db, token, agent());
    await expect(joinHost(database.db, token, agent())).rejects.toMatchObject({ code: "PermissionDenied" });
  });

  it("validates its input and audits every change", async () => {
    await expect(createJoinToken(database.db, SYSTEM_ACTOR, { maxUses: 0 })).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    await expect(createJoinToken(database.db, SYSTEM_ACTOR, { ttlMs: -5 })).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    await expect(revokeJoinToken(database.db, SYSTEM_ACTOR, "jt_missing")).rejects.toMatchObject({
      code: "NotFound",
    });
    const { id } = await createJoinToken(database.db, SYSTEM_ACTOR, {});
    const audit = await database.db
      .select()
      .from(schema.auditEntries)
      .where(eq(schema.auditEntries.targetId, id));
    expect(audit.map((a) => a.action)).toEqual(["join-token.create"]);
  });
});
