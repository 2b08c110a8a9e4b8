// Teams and memberships: who belongs to which team, with which role.
import { type Db, newId, type Role, schema, type Tx } from "@berth/db";
import { BerthError } from "@berth/protocol";
import { and, eq, getTableName, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { type Actor, recordAudit } from "./events.ts";
import { DEFAULT_TEAM } from "./users.ts";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

/** True when `role` is `least` or above (owner > admin > operator > viewer). */
export function roleAtLeast(role: Role | null | undefined, least: Role): boolean {
  return role != null && RANK[role] >= RANK[least];
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

/** Add a user to a team, or change their role in it. */
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
    await tx
      .insert(schema.memberships)
      .values(input)
      .onConflictDoUpdate({
        target: [schema.memberships.teamId, schema.memberships.userId],
        set: { role: input.role },
      });
    await recordAudit(tx, actor, {
      action: "team.member.set",
      targetType: "team",
      targetId: input.teamId,
      data: { userId: input.userId, role: input.role },
    });
  });
}

/** Remove a user from a team (nothing happens when they were not in it). */
export async function removeTeamMembership(
  db: Db,
  actor: Actor,
  input: { teamId: string; userId: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    const gone = await tx
      .delete(schema.memberships)
      .where(and(eq(schema.memberships.teamId, input.teamId), eq(schema.memberships.userId, input.userId)))
      .returning({ userId: schema.memberships.userId });
    if (gone.length === 0) return;
    await recordAudit(tx, actor, {
      action: "team.member.remove",
      targetType: "team",
      targetId: input.teamId,
      data: { userId: input.userId },
    });
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
  const fleetAdmin = roleAtLeast(row?.fleet, "admin");
  const role: Role | null = row?.role ?? (fleetAdmin ? "admin" : null);
  if (!row || !role) throw new BerthError("NotFound", `no team "${slug}" (or you are not in it)`);
  const effective = fleetAdmin && !roleAtLeast(role, "admin") ? "admin" : role;
  return { team: { id: row.id, name: row.name, slug: row.slug }, role: effective };
}
