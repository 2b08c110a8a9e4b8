// Who may do what in the built-in registry: rights per repository, by team.
import { type Db, type Role, schema } from "@berth/db";
import { roleAtLeast } from "@berth/db/roles";
import { eq, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { fleetRole, qualified } from "../teams.ts";

/** What can be done to one repository. */
export type RepositoryAction = "pull" | "push" | "delete";
export const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ["pull", "push", "delete"];

/** A repository's namespace: its first path component (`shop` of `shop/web`, `busybox` of `busybox`). */
export function repositoryNamespace(repository: string): string {
  const slash = repository.indexOf("/");
  return slash < 0 ? repository : repository.slice(0, slash);
}

/** What the rules need to know about a caller and a repository. */
export interface RepositoryRightsInput {
  /** The caller's role in the default team (fleet-wide); null when not in it. */
  fleetRole: Role | null;
  /** True when a team's slug equals the repository's namespace. */
  ownedByTeam: boolean;
  /** The caller's role in that team; null when not a member (or no team owns it). */
  teamRole: Role | null;
}

/**
 * The registry's rules, as one pure function:
 * - fleet admins and owners (the default team's) may pull, push and delete anywhere;
 * - in a namespace a team owns, its members may pull, its operators and up
 *   push, its admins and owners also delete; nobody else may do anything;
 * - in a namespace no team owns, every signed-in user may pull; only fleet
 *   admins push or delete.
 */
export function repositoryRights(input: RepositoryRightsInput): RepositoryAction[] {
  if (roleAtLeast(input.fleetRole, "admin")) return ["pull", "push", "delete"];
  if (!input.ownedByTeam) return ["pull"];
  const rights: RepositoryAction[] = [];
  if (input.teamRole) rights.push("pull");
  if (roleAtLeast(input.teamRole, "operator")) rights.push("push");
  if (roleAtLeast(input.teamRole, "admin")) rights.push("delete");
  return rights;
}

/** What `userId` may do to `repository` now (nothing for an unknown or disabled user). */
export async function registryRights(
  db: Db,
  userId: string,
  repository: string,
): Promise<RepositoryAction[]> {
  const namespace = repositoryNamespace(repository);
  const [row] = await db
    .select({
      disabledAt: schema.users.disabledAt,
      fleetRole: fleetRole(schema.users.id),
      ownedByTeam: sql<boolean>`exists (select 1 from teams ot where ot.slug = ${namespace})`,
      teamRole: sql<Role | null>`(select tm.role from memberships tm inner join teams tt on tt.id = tm.team_id
        where tt.slug = ${namespace} and tm.user_id = ${qualified(schema.users.id)})`,
    })
    .from(schema.users)
    .where(eq(schema.users.id, userId));
  if (!row || row.disabledAt) return [];
  return repositoryRights(row);
}

/**
 * A condition on a repository-name column: true for the repositories
 * `userId` may pull (the same rules as `repositoryRights`, in SQL, so lists
 * page correctly).
 */
export function pullableBy(userId: string, repositoryColumn: AnyPgColumn): SQL {
  const namespace = sql`split_part(${qualified(repositoryColumn)}, '/', 1)`;
  return sql`(${fleetRole(userId)} in ('owner', 'admin')
    or not exists (select 1 from teams pt where pt.slug = ${namespace})
    or exists (select 1 from memberships pm inner join teams pt on pt.id = pm.team_id
      where pm.user_id = ${userId} and pt.slug = ${namespace}))`;
}
