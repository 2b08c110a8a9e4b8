// Users and teams: the API calls and how the CLI shows them.
import { randomBytes } from "node:crypto";
import { ROLES, type Role } from "@berth/db/roles";
import type { RouterOutputs } from "@berth/web/router";
import { type Api, call, type Target } from "./api.ts";
import { relativeTime } from "./format.ts";
import { formatTable } from "./table.ts";

export type UserRow = RouterOutputs["users"]["list"][number];
export type TeamRow = RouterOutputs["teams"]["list"][number];
export type TeamMembers = RouterOutputs["teams"]["members"];

/** `--role`: one of the four roles. */
export function parseRole(text: string): Role {
  const role = text.trim().toLowerCase();
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new Error(`"${text}" is not a role: give one of ${ROLES.join(", ")}`);
  }
  return role as Role;
}

/** A password for a new user when none is given: 20 random characters, printed once. */
export function generatePassword(): string {
  return randomBytes(15).toString("base64url");
}

export const listUsers = (api: Api, target: Target) => call(target, () => api.users.list.query());

export const createUser = (
  api: Api,
  target: Target,
  input: { username: string; password: string; role: Role; displayName?: string },
) => call(target, () => api.users.create.mutate(input));

export const setUserDisabled = (api: Api, target: Target, input: { username: string; disabled: boolean }) =>
  call(target, () => api.users.setDisabled.mutate(input));

export const listTeams = (api: Api, target: Target) => call(target, () => api.teams.list.query());

export const createTeam = (api: Api, target: Target, input: { name: string; slug?: string }) =>
  call(target, () => api.teams.create.mutate(input));

export const teamMembers = (api: Api, target: Target, team: string) =>
  call(target, () => api.teams.members.query({ team }));

/** Add a user to a team or change their role; `role: null` removes them. */
export const setTeamMember = (
  api: Api,
  target: Target,
  input: { team: string; username: string; role: Role | null },
) => call(target, () => api.teams.setMember.mutate(input));

export const removeTeam = (api: Api, target: Target, team: string) =>
  call(target, () => api.teams.remove.mutate({ team }));

export function usersTable(users: readonly UserRow[], now: number): string {
  return formatTable(
    ["USERNAME", "ROLE", "TEAMS", "CREATED", "NAME"],
    users.map((u) => [
      u.username,
      u.disabledAt ? "disabled" : (u.role ?? "-"),
      u.teams.join(",") || "-",
      relativeTime(u.createdAt, now),
      u.displayName,
    ]),
  );
}

export function teamsTable(teams: readonly TeamRow[], now: number): string {
  return formatTable(
    ["TEAM", "NAME", "MEMBERS", "YOUR ROLE", "CREATED"],
    teams.map((t) => [t.slug, t.name, String(t.members), t.role ?? "-", relativeTime(t.createdAt, now)]),
  );
}

export function membersTable(m: TeamMembers, now: number): string {
  return formatTable(
    ["USERNAME", "ROLE", "SINCE", "NAME"],
    m.members.map((u) => [u.username, u.role, relativeTime(u.since, now), u.displayName]),
  );
}
