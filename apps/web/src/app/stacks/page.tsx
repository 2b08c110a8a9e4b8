"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { LiveIndicator } from "../../components/live-indicator.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { QueryStatus } from "../../components/query-status.tsx";
import { StacksEmpty } from "../../components/stacks-empty.tsx";
import { StacksTable } from "../../components/stacks-table.tsx";
import { useLiveStacks } from "../../lib/live.ts";
import { canChangeStacks } from "../../lib/stacks.ts";
import { type StackSummary, useTRPC } from "../../lib/trpc.ts";

function summary(stacks: StackSummary[]): string {
  if (stacks.length === 0) return "Services that run together across the fleet";
  const running = stacks.reduce((n, s) => n + s.running, 0);
  const desired = stacks.reduce((n, s) => n + s.desired, 0);
  return `${stacks.length} ${stacks.length === 1 ? "stack" : "stacks"} · ${running} of ${desired} tasks running`;
}

export default function StacksPage() {
  const trpc = useTRPC();
  const live = useLiveStacks();
  const me = useQuery({ ...trpc.auth.me.queryOptions(), staleTime: 30_000 });
  const stacks = useQuery(trpc.stacks.list.queryOptions({}));
  const canChange = canChangeStacks(me.data?.role);
  return (
    <>
      <PageHeader
        title="Stacks"
        subtitle={stacks.data ? summary(stacks.data) : "Services that run together across the fleet"}
        actions={
          <>
            <LiveIndicator status={live} />
            {canChange && (
              <Link href="/stacks/-/new" className="btn btn-primary" data-testid="new-stack">
                New stack
              </Link>
            )}
          </>
        }
      />
      {!stacks.data ? (
        <QueryStatus error={stacks.error} what="stacks" />
      ) : stacks.data.length === 0 ? (
        <StacksEmpty canChange={canChange} />
      ) : (
        <StacksTable stacks={stacks.data} />
      )}
    </>
  );
}
