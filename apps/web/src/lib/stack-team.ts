"use client";

import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { useTRPC } from "./trpc.ts";

export const DEFAULT_TEAM = "default";

/** The team whose stacks the stack pages show: `?team=SLUG`, else the default team. */
export function useStackTeam(): string {
  return useSearchParams().get("team") || DEFAULT_TEAM;
}

/** The query string that keeps `team` on a stack page's links (none for the default team). */
export function teamQuery(team: string): string {
  return team === DEFAULT_TEAM ? "" : `?team=${encodeURIComponent(team)}`;
}

/**
 * The teams the user can pick and the role they act with in `team` (null
 * until known, or when they are not in it).
 */
export function useTeams(team: string) {
  const trpc = useTRPC();
  const teams = useQuery({ ...trpc.teams.list.queryOptions(), staleTime: 30_000 });
  return { teams: teams.data ?? [], role: teams.data?.find((t) => t.slug === team)?.acting ?? null };
}
