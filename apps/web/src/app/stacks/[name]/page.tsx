"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { LiveIndicator } from "../../../components/live-indicator.tsx";
import { BackLink, NotFound } from "../../../components/not-found.tsx";
import { PageHeader } from "../../../components/page-header.tsx";
import { QueryStatus } from "../../../components/query-status.tsx";
import { RelativeTime } from "../../../components/relative-time.tsx";
import { RemoveStackButton } from "../../../components/remove-stack.tsx";
import { StackHistory } from "../../../components/stack-history.tsx";
import { ServicesTable } from "../../../components/stack-services.tsx";
import { TasksByHost } from "../../../components/stack-tasks.tsx";
import { StackTimeline } from "../../../components/stack-timeline.tsx";
import { stackEditHref } from "../../../components/stacks-table.tsx";
import { errorCode } from "../../../lib/errors.ts";
import { useLiveStacks } from "../../../lib/live.ts";
import { teamQuery, useStackTeam } from "../../../lib/stack-team.ts";
import { type StackDetail, useTRPC } from "../../../lib/trpc.ts";

function Subtitle({ data }: { data: StackDetail }) {
  const services = data.stack.services;
  const running = services.reduce((n, s) => n + s.running, 0);
  const desired = services.reduce((n, s) => n + s.replicas, 0);
  return (
    <>
      {services.length} {services.length === 1 ? "service" : "services"} · {running} of {desired} tasks
      running · revision <span data-testid="stack-revision">{data.stack.revision}</span> · updated{" "}
      <RelativeTime past value={data.stack.updatedAt} />
    </>
  );
}

export default function StackPage() {
  const { name } = useParams<{ name: string }>();
  const stack = decodeURIComponent(name);
  const trpc = useTRPC();
  const team = useStackTeam();
  const live = useLiveStacks();
  const q = useQuery(trpc.stacks.get.queryOptions({ team, name: stack }));
  const back = <BackLink href={`/stacks${teamQuery(team)}`}>Stacks</BackLink>;
  if (errorCode(q.error) === "NOT_FOUND") {
    return (
      <NotFound back={back} title="Stack not found" testId="stack-not-found">
        There is no stack named {stack}. It may have been removed.
      </NotFound>
    );
  }
  const data = q.data;
  return (
    <>
      {back}
      <PageHeader
        title={stack}
        subtitle={data ? <Subtitle data={data} /> : undefined}
        actions={
          <>
            <LiveIndicator status={live} />
            {data?.canChange && (
              <>
                <Link href={stackEditHref(stack, team)} className="btn btn-primary" data-testid="edit-stack">
                  Edit
                </Link>
                <RemoveStackButton stack={stack} />
              </>
            )}
          </>
        }
      />
      {!data ? (
        <QueryStatus error={q.error} what="the stack" />
      ) : (
        <div className="stack-page" data-testid="stack-page" data-revision={data.stack.revision}>
          <section>
            <h2 className="section-title">Services</h2>
            <ServicesTable stack={stack} services={data.stack.services} canChange={data.canChange} />
          </section>
          <section>
            <h2 className="section-title">Tasks by host</h2>
            <TasksByHost tasks={data.tasks} />
          </section>
          <section>
            <h2 className="section-title">Revisions</h2>
            <StackHistory stack={stack} history={data.history} canChange={data.canChange} />
          </section>
          <section>
            <h2 className="section-title">Recent events</h2>
            <StackTimeline events={data.events} />
          </section>
        </div>
      )}
    </>
  );
}
