// Teams and memberships: who belongs to which team, with which role.
import { type Db, newId, type Role, schema, type Tx } from "@berth/db";
import { roleAtLeast } from "@berth/db/roles";
import { BerthError } from "@berth/protocol";
import { and, eq, getTableName, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { type Actor, recordAudit } from "./events.ts";
import { DEFAULT_TEAM } from "./users.ts";

/** "a viewer", "an admin": a role in a sentence. */
export function aRole(role: Role): string {
  return `${role === "viewer" ? "a" : "an"} ${role}`;
}

/** A column as `"table"."column"`, so it stays unambiguous inside a subquery. */
export function qualified(column: AnyPgColumn): SQL {
  return sql`${sql.identifier(getTableName(column.table))}.${sql.identifier(column.name)}`;
}

/**
 * The role of the user `userId` (an id, or a users-id column of the outer
 * query) in the default team — the fleet-wide role: admins of the default
 * team administer the whole fleet — as a scalar subquery; null when the user
 * is not in the default team.
 */
export function fleetRole(userId: AnyPgColumn | string): SQL<Role | null> {
  const user = typeof userId === "string" ? sql`${userId}` : qualified(userId);
  return sql<Role | null>`(select fm.role from memberships fm inner join teams ft on ft.id = fm.team_id
    where ft.name = ${DEFAULT_TEAM} and fm.user_id = ${user})`;
}

/** A team's slug from its name: lower case, runs of anything but letters and digits as one dash. */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, schema.TEAM_SLUG_MAX)
    .replace(/-+$/, "");
}

export interface Team {
  id: string;
  name: string;
  slug: string;
}

/** A new team; its slug (given, or made from the name) names its registry namespace. */
export async function createTeam(db: Db | Tx, actor: Actor, input: { name: string; slug?: string }) {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) {
    throw new BerthError("InvalidArgument", "a team name is 1–100 characters");
  }
  const slug = input.slug ?? slugify(name);
  if (!schema.TEAM_SLUG.test(slug) || slug.length > schema.TEAM_SLUG_MAX) {
    throw new BerthError(
      "InvalidArgument",
      `team slug "${slug}" must be 1–${schema.TEAM_SLUG_MAX} lower-case letters, digits and single dashes`,
    );
  }
  const id = newId("team");
  const inserted = await db
    .insert(schema.teams)
    .values({ id, name, slug })
    .onConflictDoNothing()
    .returning({ id: schema.teams.id });
  if (inserted.length === 0) {
    throw new BerthError("Conflict", `a team named ${name} or with the slug ${slug} already exists`);
  }
  await recordAudit(db, actor, { action: "team.create", targetType: "team", targetId: id, data: { slug } });
  return { id, name, slug } satisfies Team;
}

/**
 * Write one membership (`role: null` takes the user out) and its audit entry, inside the caller's
 * transaction: what every membership change ends with.
 */
async function writeMembership(
  tx: Tx,
  actor: Actor,
  m: { teamId: string; userId: string; role: Role | null; from?: Role | null },
): Promise<void> {
  const { teamId, userId, role } = m;
  if (role === null) {
    await tx
      .delete(schema.memberships)
      .where(and(eq(schema.memberships.teamId, teamId), eq(schema.memberships.userId, userId)));
  } else {
    await tx
      .insert(schema.memberships)
      .values({ teamId, userId, role })
      .onConflictDoUpdate({ target: [schema.memberships.teamId, schema.memberships.userId], set: { role } });
  }
  const from = m.from === undefined ? {} : { from: m.from };
  await recordAudit(tx, actor, {
    action: role === null ? "team.member.remove" : "team.member.set",
    targetType: "team",
    targetId: teamId,
    data: role === null ? { userId, ...from } : { userId, role, ...from },
  });
}

/** Add a user to a team, or change their role in it, by ids and with no checks of who asks (set-up, tests). */
export async function setTeamMembership(
  db: Db,
  actor: Actor,
  input: { teamId: string; userId: string; role: Role },
): Promise<void> {
  await db.transaction(async (tx) => {
    const [team] = await tx
      .select({ id: schema.teams.id })
      .from(schema.teams)
      .where(eq(schema.teams.id, input.teamId));
    if (!team) throw new BerthError("NotFound", `no team ${input.teamId}`);
    await writeMembership(tx, actor, input);
  });
}

/**
 * A team by slug and what `userId` may do in it: their role in that team;
 * fleet admins and owners (of the default team) act as admins everywhere.
 * NotFound when there is no such team — also when the user may not see it.
 */
export async function teamAccess(db: Db, userId: string, slug: string): Promise<{ team: Team; role: Role }> {
  const rows = await db
    .select({
      id: schema.teams.id,
      name: schema.teams.name,
      slug: schema.teams.slug,
      role: schema.memberships.role,
      fleet: fleetRole(userId),
    })
    .from(schema.teams)
    .leftJoin(
      schema.memberships,
      and(eq(schema.memberships.teamId, schema.teams.id), eq(schema.memberships.userId, userId)),
    )
    .where(eq(schema.teams.slug, slug));
  const row = rows[0];
  const role = row ? actingRole(row.role, row.fleet) : null;
  if (!row || !role) throw new BerthError("NotFound", `no team "${slug}" (or you are not in it)`);
  return { team: { id: row.id, name: row.name, slug: row.slug }, role };
}

/** The role someone acts with in a team: their own there, raised to admin for fleet admins and owners. */
function actingRole(member: Role | null, fleet: Role | null): Role | null {
  if (!roleAtLeast(fleet, "admin")) return member;
  return roleAtLeast(member, "admin") ? member : "admin";
}

/**
 * The highest role a manager may give or take away in a team where they act as `managerRole`
 * (teamAccess's role): their own, or their fleet role when that is higher (a fleet owner may make
 * owners anywhere). Null when they may not manage its members at all (below admin).
 */
export function managementCeiling(managerRole: Role, fleet: Role): Role | null {
  const ceiling = !roleAtLeast(managerRole, fleet) && roleAtLeast(fleet, "admin") ? fleet : managerRole;
  return roleAtLeast(ceiling, "admin") ? ceiling : null;
}

/** managementCeiling, refused with PermissionDenied when there is none. */
export function grantCeiling(managerRole: Role, fleet: Role): Role {
  const ceiling = managementCeiling(managerRole, fleet);
  if (!ceiling) {
    throw new BerthError(
      "PermissionDenied",
      `as ${aRole(managerRole)} you cannot change who is in the team; ask an admin`,
    );
  }
  return ceiling;
}

export interface TeamRow extends Team {
  members: number;
  /** The caller's own role in the team (null when they see it as a fleet admin only). */
  role: Role | null;
  /** The role they act with there (as teamAccess gives it). */
  acting: Role;
  createdAt: Date;
}

/** The teams `userId` is in, or every team for a fleet admin or owner; by slug. */
export async function listTeams(db: Db, userId: string): Promise<TeamRow[]> {
  const m = schema.memberships;
  const rows = await db
    .select({
      id: schema.teams.id,
      name: schema.teams.name,
      slug: schema.teams.slug,
      createdAt: schema.teams.createdAt,
      members: sql<number>`(select count(*)::int from memberships c where c.team_id = ${qualified(schema.teams.id)})`,
      role: m.role,
      fleet: fleetRole(userId),
    })
    .from(schema.teams)
    .leftJoin(m, and(eq(m.teamId, schema.teams.id), eq(m.userId, userId)))
    .orderBy(schema.teams.slug);
  return rows.flatMap(({ fleet, ...r }) => {
    const acting = actingRole(r.role, fleet);
    return acting ? [{ ...r, acting }] : [];
  });
}

export interface MemberRow {
  userId: string;
  username: string;
  displayName: string;
  role: Role;
  since: Date;
}

/** A team's members, by username. */
export async function listTeamMembers(db: Db, teamId: string): Promise<MemberRow[]> {
  const m = schema.memberships;
  return db
    .select({
      userId: m.userId,
      username: schema.users.username,
      displayName: schema.users.displayName,
      role: m.role,
      since: m.createdAt,
    })
    .from(m)
    .innerJoin(schema.users, eq(schema.users.id, m.userId))
    .where(eq(m.teamId, teamId))
    .orderBy(schema.users.username);
}

/** A user's id by username; NotFound names the username. */
export async function userIdByName(db: Db | Tx, username: string): Promise<string> {
  const [row] = await db
    .select({ id: schema.users.id })
    .from(schema.users)
    .where(eq(schema.users.username, username));
  if (!row) throw new BerthError("NotFound", `no user ${username}`);
  return row.id;
}

/**
 * Add `username` to a team or change their role, on behalf of a manager who may grant up to
 * `ceiling` (grantCeiling): nobody gives a role above their own or changes the role of someone
 * above them, and the default team keeps at least one owner.
 */
export async function manageMembership(
  db: Db,
  actor: Actor,
  input: { team: Team; username: string; role: Role | null; ceiling: Role },
): Promise<{ username: string; role: Role | null; changed: boolean }> {
  const { team, username, role, ceiling } = input;
  if (role !== null && !roleAtLeast(ceiling, role)) {
    throw new BerthError("PermissionDenied", `as ${aRole(ceiling)} you cannot make anyone ${role}`);
  }
  return db.transaction(async (tx) => {
    const userId = await userIdByName(tx, username);
    // Lock the team's memberships: two changes at once must not both remove its last owner.
    const members = await tx
      .select({ userId: schema.memberships.userId, role: schema.memberships.role })
      .from(schema.memberships)
      .where(eq(schema.memberships.teamId, team.id))
      .for("update");
    const current = members.find((m) => m.userId === userId)?.role ?? null;
    if (current !== null && !roleAtLeast(ceiling, current)) {
      throw new BerthError(
        "PermissionDenied",
        `${username} is ${aRole(current)} of ${team.slug}, above you (${aRole(ceiling)})`,
      );
    }
    if (current === role) return { username, role, changed: false };
    const owners = members.filter((m) => m.role === "owner").length;
    if (team.slug === DEFAULT_TEAM && current === "owner" && owners === 1) {
      throw new BerthError(
        "FailedPrecondition",
        `${username} is the fleet's last owner; make someone else owner first`,
      );
    }
    await writeMembership(tx, actor, { teamId: team.id, userId, role, from: current });
    return { username, role, changed: true };
  });
}

/**
 * Remove a team and its memberships. The default team stays, and a team that still has stacks is
 * refused (remove them first). Its registry repositories stay, as fleet admins' alone.
 */
export async function removeTeam(db: Db, actor: Actor, team: Team): Promise<void> {
  if (team.slug === DEFAULT_TEAM)
    throw new BerthError("FailedPrecondition", "the default team cannot be removed");
  await db.transaction(async (tx) => {
    const [stacks] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(schema.stacks)
      .where(eq(schema.stacks.teamId, team.id));
    if ((stacks?.n ?? 0) > 0) {
      throw new BerthError(
        "FailedPrecondition",
        `team ${team.slug} still has ${stacks!.n} ${stacks!.n === 1 ? "stack" : "stacks"}; remove them first`,
      );
    }
    await tx.delete(schema.teams).where(eq(schema.teams.id, team.id));
    await recordAudit(tx, actor, {
      action: "team.remove",
      targetType: "team",
      targetId: team.id,
      data: { slug: team.slug },
    });
  });
}
