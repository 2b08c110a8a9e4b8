"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { LiveIndicator } from "../../components/live-indicator.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { QueryStatus } from "../../components/query-status.tsx";
import { RegistryEmpty } from "../../components/registry-empty.tsx";
import { RegistryRepositoriesTable } from "../../components/registry-repositories-table.tsx";
import { type TeamOption, TeamSelect } from "../../components/team-select.tsx";
import { useLiveRegistry } from "../../lib/live.ts";
import { type RegistryRepository, useTRPC } from "../../lib/trpc.ts";

/** `?team=` for repositories of no team (a slug never starts with a dash). */
const SHARED = "-";

function summary(repositories: RegistryRepository[]): string {
  if (repositories.length === 0) return "Images pushed to this control plane";
  const tags = repositories.reduce((sum, r) => sum + r.tagCount, 0);
  const repos = `${repositories.length} ${repositories.length === 1 ? "repository" : "repositories"}`;
  return `${repos} · ${tags} ${tags === 1 ? "tag" : "tags"}`;
}

/** The teams the listed repositories belong to, by name, then "Shared" when some belong to none. */
function groupsOf(repositories: RegistryRepository[]): TeamOption[] {
  const teams = new Map<string, string>();
  for (const r of repositories) if (r.team) teams.set(r.team.slug, r.team.name);
  const groups = [...teams]
    .sort((a, b) => a[1].localeCompare(b[1]))
    .map(([slug, name]) => ({ value: slug, label: name }));
  if (repositories.some((r) => r.team === null)) groups.push({ value: SHARED, label: "Shared" });
  return groups;
}

/**
 * Narrows the list to one team's repositories (`?team=SLUG`, or `?team=-` for the shared ones):
 * shown when there is a choice, or a filter to take off (a team with nothing of its own listed
 * stays an option while it is chosen).
 */
function TeamFilter({ value, groups }: { value: string; groups: TeamOption[] }) {
  const router = useRouter();
  if (groups.length < 2 && value === "") return null;
  const known = value === "" || groups.some((g) => g.value === value);
  return (
    <TeamSelect
      testId="registry-team-picker"
      value={value}
      options={[{ value: "", label: "All teams" }, ...groups, ...(known ? [] : [{ value, label: value }])]}
      onPick={(team) => router.push(team ? `/registry?team=${encodeURIComponent(team)}` : "/registry")}
    />
  );
}

function Registry() {
  const trpc = useTRPC();
  const team = useSearchParams().get("team") ?? "";
  // Pushes and deletes publish a change: the subscription refetches.
  const live = useLiveRegistry();
  const repos = useQuery(trpc.registry.repositories.queryOptions());
  const all = repos.data ?? [];
  const shown = team === "" ? all : all.filter((r) => (r.team?.slug ?? SHARED) === team);
  return (
    <>
      <PageHeader
        title="Registry"
        subtitle={repos.data ? summary(shown) : "Images pushed to this control plane"}
        actions={
          <>
            <TeamFilter value={team} groups={groupsOf(all)} />
            <LiveIndicator status={live} />
          </>
        }
      />
      {!repos.data ? (
        <QueryStatus error={repos.error} what="the registry" />
      ) : all.length === 0 ? (
        <RegistryEmpty />
      ) : shown.length === 0 ? (
        <div className="panel empty" data-testid="registry-team-empty">
          None of the repositories you may pull belong to this team.
        </div>
      ) : (
        <RegistryRepositoriesTable repositories={shown} />
      )}
    </>
  );
}

/** The team filter is read from the URL, which needs a Suspense boundary. */
export default function RegistryPage() {
  return (
    <Suspense fallback={null}>
      <Registry />
    </Suspense>
  );
}
