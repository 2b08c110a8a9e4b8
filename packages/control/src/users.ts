import { randomBytes } from "node:crypto";
import { type Db, newId, type Role, schema } from "@berth/db";
import { roleAtLeast } from "@berth/db/roles";
import { BerthError } from "@berth/protocol";
import { asc, count, eq, sql } from "drizzle-orm";
import { type Actor, recordAudit } from "./events.ts";
import { checkPasswordStrength, hashPassword } from "./passwords.ts";
import { aRole, fleetRole, qualified } from "./teams.ts";

export const DEFAULT_TEAM = "default";
const USERNAME = /^[a-z][a-z0-9._-]{1,62}$/;

/** The default team (made on first use): the fleet-wide team every user starts in. */
export async function defaultTeamId(db: Db): Promise<string> {
  const [team] = await db
    .select({ id: schema.teams.id })
    .from(schema.teams)
    .where(eq(schema.teams.name, DEFAULT_TEAM));
  if (team) return team.id;
  const id = newId("team");
  await db.insert(schema.teams).values({ id, name: DEFAULT_TEAM, slug: DEFAULT_TEAM }).onConflictDoNothing();
  const [again] = await db
    .select({ id: schema.teams.id })
    .from(schema.teams)
    .where(eq(schema.teams.name, DEFAULT_TEAM));
  return again!.id;
}

export async function createUser(
  db: Db,
  actor: Actor,
  input: { username: string; password: string; role: Role; displayName?: string },
) {
  if (!USERNAME.test(input.username)) {
    throw new BerthError(
      "InvalidArgument",
      "a username is 2–63 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter",
    );
  }
  checkPasswordStrength(input.password);
  const passwordHash = await hashPassword(input.password);
  const teamId = await defaultTeamId(db);
  const id = newId("user");
  await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(schema.users)
      .values({ id, username: input.username, displayName: input.displayName ?? "" })
      .onConflictDoNothing()
      .returning({ id: schema.users.id });
    if (inserted.length === 0) throw new BerthError("Conflict", `user ${input.username} already exists`);
    await tx.insert(schema.userPasswords).values({ userId: id, passwordHash });
    await tx.insert(schema.memberships).values({ teamId, userId: id, role: input.role });
    await recordAudit(tx, actor, {
      action: "user.create",
      targetType: "user",
      targetId: id,
      data: { role: input.role },
    });
  });
  return { id, username: input.username, role: input.role };
}

export async function countUsers(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(schema.users);
  return row?.n ?? 0;
}

/**
 * On first start there are no users: create `admin` (owner of the default
 * team). The password is the one given (BERTH_ADMIN_PASSWORD) or a generated
 * one, returned so the caller can print it once. Returns null when users exist.
 */
export async function ensureFirstAdmin(
  db: Db,
  password?: string,
): Promise<{ username: string; password: string; generated: boolean } | null> {
  if ((await countUsers(db)) > 0) return null;
  const generated = !password;
  const pw = password ?? randomBytes(15).toString("base64url");
  try {
    await createUser(
      db,
      { userId: null, name: "system" },
      { username: "admin", password: pw, role: "owner" },
    );
  } catch (err) {
    // Another replica created it first.
    if (err instanceof BerthError && err.code === "Conflict") return null;
    throw err;
  }
  return { username: "admin", password: pw, generated };
}

/**
 * Every user, by username, with their fleet role (their role in the default team; null when they
 * are only in other teams) and the slugs of the teams they are in.
 */
export async function listUsers(db: Db) {
  const u = schema.users;
  return db
    .select({
      id: u.id,
      username: u.username,
      displayName: u.displayName,
      role: fleetRole(u.id),
      teams: sql<string[]>`coalesce((select array_agg(t.slug order by t.slug) from memberships m
        inner join teams t on t.id = m.team_id where m.user_id = ${qualified(u.id)}), '{}')`,
      createdAt: u.createdAt,
      disabledAt: u.disabledAt,
    })
    .from(u)
    .orderBy(asc(u.username));
}

/**
 * Disable a user (they can no longer log in, and their sessions and API tokens stop working at
 * once), or enable them again (their API tokens work again; sessions must be made anew). Nobody
 * disables themselves or someone whose fleet role is above theirs.
 */
export async function setUserDisabled(
  db: Db,
  by: { userId: string; name: string; role: Role },
  input: { username: string; disabled: boolean },
): Promise<{ username: string; disabled: boolean; changed: boolean }> {
  const { username, disabled } = input;
  return db.transaction(async (tx) => {
    const [user] = await tx
      .select({ id: schema.users.id, disabledAt: schema.users.disabledAt, role: fleetRole(schema.users.id) })
      .from(schema.users)
      .where(eq(schema.users.username, username))
      .for("update");
    if (!user) throw new BerthError("NotFound", `no user ${username}`);
    if (user.id === by.userId)
      throw new BerthError("FailedPrecondition", "you cannot disable or enable yourself");
    if (user.role && !roleAtLeast(by.role, user.role)) {
      throw new BerthError(
        "PermissionDenied",
        `${username} is ${aRole(user.role)}, above you (${aRole(by.role)})`,
      );
    }
    if ((user.disabledAt !== null) === disabled) return { username, disabled, changed: false };
    await tx
      .update(schema.users)
      .set({ disabledAt: disabled ? new Date() : null })
      .where(eq(schema.users.id, user.id));
    // A disabled user's sessions go; their API tokens stay, refused while they are disabled.
    if (disabled) await tx.delete(schema.sessions).where(eq(schema.sessions.userId, user.id));
    await recordAudit(
      tx,
      { userId: by.userId, name: by.name },
      {
        action: disabled ? "user.disable" : "user.enable",
        targetType: "user",
        targetId: user.id,
        data: {},
      },
    );
    return { username, disabled, changed: true };
  });
}
