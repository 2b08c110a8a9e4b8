"use client";

import { useQuery } from "@tanstack/react-query";
import { LiveIndicator } from "../../components/live-indicator.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { QueryStatus } from "../../components/query-status.tsx";
import { RegistryEmpty } from "../../components/registry-empty.tsx";
import { RegistryRepositoriesTable } from "../../components/registry-repositories-table.tsx";
import { useLiveRegistry } from "../../lib/live.ts";
import { type RegistryRepository, useTRPC } from "../../lib/trpc.ts";

function summary(repositories: RegistryRepository[]): string {
  if (repositories.length === 0) return "Images pushed to this control plane";
  const tags = repositories.reduce((sum, r) => sum + r.tagCount, 0);
  const repos = `${repositories.length} ${repositories.length === 1 ? "repository" : "repositories"}`;
  return `${repos} · ${tags} ${tags === 1 ? "tag" : "tags"}`;
}

export default function RegistryPage() {
  const trpc = useTRPC();
  // Pushes and deletes publish a change: the subscription refetches.
  const live = useLiveRegistry();
  const repos = useQuery(trpc.registry.repositories.queryOptions());
  return (
    <>
      <PageHeader
        title="Registry"
        subtitle={repos.data ? summary(repos.data) : "Images pushed to this control plane"}
        actions={<LiveIndicator status={live} />}
      />
      {!repos.data ? (
        <QueryStatus error={repos.error} what="the registry" />
      ) : repos.data.length === 0 ? (
        <RegistryEmpty />
      ) : (
        <RegistryRepositoriesTable repositories={repos.data} />
      )}
    </>
  );
}
