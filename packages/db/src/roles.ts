// The four roles, in one place for every part of Berth (the dashboard and the CLI import this
// module alone: it has no dependencies).

/** Highest first. */
export const ROLES = ["owner", "admin", "operator", "viewer"] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

/** True when `role` is `least` or above (owner > admin > operator > viewer); false for anything else. */
export function roleAtLeast(role: string | null | undefined, least: Role): boolean {
  return role != null && Object.hasOwn(RANK, role) && RANK[role as Role] >= RANK[least];
}
