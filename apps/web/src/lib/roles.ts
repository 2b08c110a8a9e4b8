import { ROLES, type Role, roleAtLeast } from "@berth/db/roles";

export { ROLES, type Role, roleAtLeast };

/** The roles someone acting as `role` may give: their own and below. */
export function grantable(role: string | null | undefined): Role[] {
  return ROLES.filter((r) => roleAtLeast(role, r));
}
