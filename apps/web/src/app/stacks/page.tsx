"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { LiveIndicator } from "../../components/live-indicator.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { QueryStatus } from "../../components/query-status.tsx";
import { StacksEmpty } from "../../components/stacks-empty.tsx";
import { StacksTable } from "../../components/stacks-table.tsx";
import { TeamSelect } from "../../components/team-select.tsx";
import { useLiveStacks } from "../../lib/live.ts";
import { teamQuery, useStackTeam, useTeams } from "../../lib/stack-team.ts";
import { canChangeStacks } from "../../lib/stacks.ts";
import { type StackSummary, useTRPC } from "../../lib/trpc.ts";

function summary(stacks: StackSummary[]): string {
  if (stacks.length === 0) return "Services that run together across the fleet";
  const running = stacks.reduce((n, s) => n + s.running, 0);
  const desired = stacks.reduce((n, s) => n + s.desired, 0);
  return `${stacks.length} ${stacks.length === 1 ? "stack" : "stacks"} · ${running} of ${desired} tasks running`;
}

/** Which team's stacks the page lists, when there is more than one to choose from. */
function TeamPicker({ team, teams }: { team: string; teams: { slug: string; name: string }[] }) {
  const router = useRouter();
  if (teams.length < 2) return null;
  return (
    <TeamSelect
      testId="team-picker"
      value={team}
      options={teams.map((t) => ({
        value: t.slug,
        label: t.slug === t.name.toLowerCase() ? t.name : `${t.name} (${t.slug})`,
      }))}
      onPick={(slug) => router.push(`/stacks${teamQuery(slug)}`)}
    />
  );
}

export default function StacksPage() {
  const trpc = useTRPC();
  const team = useStackTeam();
  const live = useLiveStacks();
  const { teams, role } = useTeams(team);
  const stacks = useQuery(trpc.stacks.list.queryOptions({ team }));
  const canChange = canChangeStacks(role ?? undefined);
  return (
    <>
      <PageHeader
        title="Stacks"
        subtitle={stacks.data ? summary(stacks.data) : "Services that run together across the fleet"}
        actions={
          <>
            <TeamPicker team={team} teams={teams} />
            <LiveIndicator status={live} />
            {canChange && (
              <Link
                href={`/stacks/-/new${teamQuery(team)}`}
                className="btn btn-primary"
                data-testid="new-stack"
              >
                New stack
              </Link>
            )}
          </>
        }
      />
      {!stacks.data ? (
        <QueryStatus error={stacks.error} what="stacks" />
      ) : stacks.data.length === 0 ? (
        <StacksEmpty canChange={canChange} team={team} />
      ) : (
        <StacksTable stacks={stacks.data} team={team} />
      )}
    </>
  );
}
