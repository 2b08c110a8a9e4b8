import { randomBytes } from "node:crypto";
import { createDb, type Database, schema } from "@berth/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SYSTEM_ACTOR } from "./events.ts";
import { createApiToken, login, loginForToken, logout, resolveApiToken, resolveSession } from "./sessions.ts";
import { createUser } from "./users.ts";

let database: Database;
beforeAll(() => {
  database = createDb(inject("databaseUrl"));
});
afterAll(() => database.close());

const username = () => `u${randomBytes(5).toString("hex")}`;
const PASSWORD = "correct horse battery";

describe("users, sessions and API tokens", () => {
  it("stores an argon2id hash, never the password", async () => {
    const u = await createUser(database.db, SYSTEM_ACTOR, {
      username: username(),
      password: PASSWORD,
      role: "viewer",
    });
    const [row] = await database.db
      .select()
      .from(schema.userPasswords)
      .where(eq(schema.userPasswords.userId, u.id));
    expect(row?.passwordHash.startsWith("$argon2id$")).toBe(true);
    expect(row?.passwordHash).not.toContain(PASSWORD);
  });

  it("logs in with the right password only, and a session resolves until logout", async () => {
    const name = username();
    await createUser(database.db, SYSTEM_ACTOR, { username: name, password: PASSWORD, role: "operator" });
    await expect(login(database.db, name, "wrong password!")).rejects.toMatchObject({
      code: "Unauthenticated",
    });
    await expect(login(database.db, "nobody-here", PASSWORD)).rejects.toMatchObject({
      code: "Unauthenticated",
    });
    const { token } = await login(database.db, name, PASSWORD);
    expect(await resolveSession(database.db, token)).toMatchObject({
      username: name,
      role: "operator",
      via: "session",
    });
    await logout(database.db, token);
    expect(await resolveSession(database.db, token)).toBeNull();
  });

  it("issues API tokens that resolve to their user, and refuses others", async () => {
    const name = username();
    await createUser(database.db, SYSTEM_ACTOR, { username: name, password: PASSWORD, role: "admin" });
    const { token } = await loginForToken(database.db, name, PASSWORD, "cli@test");
    const principal = await resolveApiToken(database.db, token);
    expect(principal).toMatchObject({ username: name, role: "admin", via: "token" });
    expect(await resolveApiToken(database.db, `${token}x`)).toBeNull();
    const expiring = await createApiToken(database.db, principal!, { name: "short", ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 10));
    expect(await resolveApiToken(database.db, expiring.token)).toBeNull();
  });

  it("rejects bad usernames, short passwords and duplicates", async () => {
    const name = username();
    await expect(
      createUser(database.db, SYSTEM_ACTOR, { username: "Bad Name", password: PASSWORD, role: "viewer" }),
    ).rejects.toMatchObject({ code: "InvalidArgument" });
    await expect(
      createUser(database.db, SYSTEM_ACTOR, { username: name, password: "short", role: "viewer" }),
    ).rejects.toMatchObject({ code: "InvalidArgument" });
    await createUser(database.db, SYSTEM_ACTOR, { username: name, password: PASSWORD, role: "viewer" });
    await expect(
      createUser(database.db, SYSTEM_ACTOR, { username: name, password: PASSWORD, role: "viewer" }),
    ).rejects.toMatchObject({ code: "Conflict" });
  });
});
