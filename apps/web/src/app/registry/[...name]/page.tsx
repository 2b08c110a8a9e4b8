"use client";

import { useQuery } from "@tanstack/react-query";
import { useParams, useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { LiveIndicator } from "../../../components/live-indicator.tsx";
import { BackLink, NotFound } from "../../../components/not-found.tsx";
import { PageHeader } from "../../../components/page-header.tsx";
import { QueryStatus } from "../../../components/query-status.tsx";
import { RegistryManifestDetail } from "../../../components/registry-manifest.tsx";
import { RegistryTagsTable } from "../../../components/registry-tags-table.tsx";
import { errorCode } from "../../../lib/errors.ts";
import { useLiveRegistry } from "../../../lib/live.ts";
import { useTRPC } from "../../../lib/trpc.ts";

function Manifest({ repository, digest }: { repository: string; digest: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.registry.manifest.queryOptions({ repository, digest }));
  if (errorCode(q.error) === "NOT_FOUND") {
    return (
      <div className="notice notice-error" data-testid="registry-manifest-missing">
        {repository} holds no manifest {digest}; it may have been deleted.
      </div>
    );
  }
  if (!q.data) return <QueryStatus error={q.error} what="the manifest" />;
  return <RegistryManifestDetail manifest={q.data} />;
}

function Repository() {
  const params = useParams<{ name: string[] }>();
  const name = (params.name ?? []).map(decodeURIComponent).join("/");
  const selected = useSearchParams().get("digest");
  const trpc = useTRPC();
  const live = useLiveRegistry();
  const q = useQuery(trpc.registry.repository.queryOptions({ name }));
  const back = <BackLink href="/registry">Registry</BackLink>;
  if (errorCode(q.error) === "NOT_FOUND") {
    return (
      <NotFound back={back} title="Repository not found" testId="registry-repository-missing">
        The registry has no repository {name}. It exists once an image is pushed to it.
      </NotFound>
    );
  }
  const tags = q.data?.tags ?? [];
  const subtitle = q.data
    ? `${tags.length} ${tags.length === 1 ? "tag" : "tags"}${selected ? "" : " · choose a tag to see its layers"}`
    : undefined;
  return (
    <>
      {back}
      <PageHeader title={name} subtitle={subtitle} actions={<LiveIndicator status={live} />} />
      {q.data ? (
        <div className="stack" data-testid="registry-repository" data-repository={name}>
          <RegistryTagsTable repository={name} tags={tags} selected={selected} />
          {selected && <Manifest repository={name} digest={selected} />}
        </div>
      ) : (
        <QueryStatus error={q.error} what="the repository" />
      )}
    </>
  );
}

export default function RepositoryPage() {
  return (
    <Suspense fallback={null}>
      <Repository />
    </Suspense>
  );
}
