"use client";

import { useQuery } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import { HostDetail } from "../../../components/host-detail.tsx";
import { LiveIndicator } from "../../../components/live-indicator.tsx";
import { BackLink, NotFound } from "../../../components/not-found.tsx";
import { PageHeader } from "../../../components/page-header.tsx";
import { QueryStatus } from "../../../components/query-status.tsx";
import { StateBadge } from "../../../components/state-badge.tsx";
import { errorCode } from "../../../lib/errors.ts";
import { useLiveHosts } from "../../../lib/live.ts";
import { useTRPC } from "../../../lib/trpc.ts";

export default function HostPage() {
  const { id } = useParams<{ id: string }>();
  const trpc = useTRPC();
  const live = useLiveHosts();
  const q = useQuery({ ...trpc.hosts.get.queryOptions({ id }), refetchInterval: 10_000 });
  const back = <BackLink href="/hosts">Hosts</BackLink>;

  if (errorCode(q.error) === "NOT_FOUND") {
    return (
      <NotFound back={back} title="Host not found">
        There is no host with id {id}. It may have been removed.
      </NotFound>
    );
  }
  return (
    <>
      {back}
      <PageHeader
        title={
          q.data ? (
            <span className="title-with-badge">
              {q.data.host.name} <StateBadge state={q.data.host.state} />
            </span>
          ) : (
            "Host"
          )
        }
        documentTitle={q.data?.host.name ?? "Host"}
        subtitle={
          q.data ? `${q.data.host.facts.os} ${q.data.host.facts.arch} · ${q.data.host.id}` : undefined
        }
        actions={<LiveIndicator status={live} />}
      />
      {q.data ? (
        <HostDetail host={q.data.host} events={q.data.events} />
      ) : (
        <QueryStatus error={q.error} what="the host" />
      )}
    </>
  );
}
