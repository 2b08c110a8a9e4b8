"use client";

import { useQuery } from "@tanstack/react-query";
import { EventsTable } from "../../components/events-table.tsx";
import { LiveIndicator } from "../../components/live-indicator.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { QueryStatus } from "../../components/query-status.tsx";
import { useLiveHosts } from "../../lib/live.ts";
import { useTRPC } from "../../lib/trpc.ts";

const LIMIT = 200;

export default function EventsPage() {
  const trpc = useTRPC();
  // Host changes are what record events today; other kinds arrive with the periodic refresh.
  const live = useLiveHosts([trpc.events.list.queryFilter()]);
  const events = useQuery({ ...trpc.events.list.queryOptions({ limit: LIMIT }), refetchInterval: 10_000 });
  return (
    <>
      <PageHeader
        title="Events"
        subtitle={`What happened across the fleet, newest first (latest ${LIMIT}).`}
        actions={<LiveIndicator status={live} />}
      />
      {events.data ? (
        <EventsTable events={events.data} />
      ) : (
        <QueryStatus error={events.error} what="events" />
      )}
    </>
  );
}
