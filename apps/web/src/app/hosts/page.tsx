"use client";

import { useQuery } from "@tanstack/react-query";
import { HostsEmpty } from "../../components/hosts-empty.tsx";
import { HostsTable } from "../../components/hosts-table.tsx";
import { LiveIndicator } from "../../components/live-indicator.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { QueryStatus } from "../../components/query-status.tsx";
import { useLiveHosts } from "../../lib/live.ts";
import { type Host, useTRPC } from "../../lib/trpc.ts";

function summary(hosts: Host[]): string {
  if (hosts.length === 0) return "The machines in this fleet";
  const count = (s: Host["state"]) => hosts.filter((h) => h.state === s).length;
  const parts = [`${hosts.length} ${hosts.length === 1 ? "host" : "hosts"}`, `${count("ready")} ready`];
  if (count("down") > 0) parts.push(`${count("down")} down`);
  if (count("draining") > 0) parts.push(`${count("draining")} draining`);
  return parts.join(" · ");
}

export default function HostsPage() {
  const trpc = useTRPC();
  const live = useLiveHosts();
  // Heartbeats do not publish changes, so refresh now and then to keep "last seen" honest.
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), refetchInterval: 10_000 });
  return (
    <>
      <PageHeader
        title="Hosts"
        subtitle={hosts.data ? summary(hosts.data) : "The machines in this fleet"}
        actions={<LiveIndicator status={live} />}
      />
      {!hosts.data ? (
        <QueryStatus error={hosts.error} what="hosts" />
      ) : hosts.data.length === 0 ? (
        <HostsEmpty />
      ) : (
        <HostsTable hosts={hosts.data} />
      )}
    </>
  );
}
