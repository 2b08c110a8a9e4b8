/** The four roles, highest first, as the API takes them. */
export const ROLES = ["owner", "admin", "operator", "viewer"] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

/** True when `role` is `least` or above. */
export function roleAtLeast(role: string | null | undefined, least: Role): boolean {
  return role != null && role in RANK && RANK[role as Role] >= RANK[least];
}

/** The roles someone acting as `role` may give: their own and below. */
export function grantable(role: string | null | undefined): Role[] {
  return ROLES.filter((r) => roleAtLeast(role, r));
}
