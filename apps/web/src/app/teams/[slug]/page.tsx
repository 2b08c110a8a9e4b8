"use client";

import { useQuery } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import { BackLink, NotFound } from "../../../components/not-found.tsx";
import { PageHeader } from "../../../components/page-header.tsx";
import { QueryStatus } from "../../../components/query-status.tsx";
import { AddMemberForm, MembersTable } from "../../../components/teams.tsx";
import { errorCode } from "../../../lib/errors.ts";
import { useTRPC } from "../../../lib/trpc.ts";

export default function TeamPage() {
  const { slug } = useParams<{ slug: string }>();
  const team = decodeURIComponent(slug);
  const trpc = useTRPC();
  const q = useQuery(trpc.teams.members.queryOptions({ team }));
  const back = <BackLink href="/teams">Teams</BackLink>;
  if (errorCode(q.error) === "NOT_FOUND") {
    return (
      <NotFound back={back} title="Team not found" testId="team-not-found">
        There is no team {team}, or you are not in it.
      </NotFound>
    );
  }
  const data = q.data;
  // The highest role the viewer may give here (null: they only look), as the server decides it.
  const manageAs = data?.manages ?? null;
  return (
    <>
      {back}
      <PageHeader
        title={data ? data.team.name : team}
        subtitle={
          data
            ? `${data.team.slug} · ${data.members.length} ${data.members.length === 1 ? "member" : "members"} · you act as ${manageAs ?? data.role}`
            : undefined
        }
      />
      {!data ? (
        <QueryStatus error={q.error} what="the team" />
      ) : (
        <div className="stack" data-testid="team-page" data-team={data.team.slug}>
          {manageAs && <AddMemberForm team={data.team.slug} manageAs={manageAs} />}
          <MembersTable team={data.team.slug} members={data.members} manageAs={manageAs} />
        </div>
      )}
    </>
  );
}
