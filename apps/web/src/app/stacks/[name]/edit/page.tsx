"use client";

import { useQuery } from "@tanstack/react-query";
import { useParams } from "next/navigation";
import { BackLink } from "../../../../components/not-found.tsx";
import { PageHeader } from "../../../../components/page-header.tsx";
import { QueryStatus } from "../../../../components/query-status.tsx";
import { StackEditor } from "../../../../components/stack-editor.tsx";
import { stackHref } from "../../../../components/stacks-table.tsx";
import { useStackTeam } from "../../../../lib/stack-team.ts";
import { useTRPC } from "../../../../lib/trpc.ts";

/** Edit a stack: the editor prefilled with the current revision's file. */
export default function EditStackPage() {
  const { name } = useParams<{ name: string }>();
  const stack = decodeURIComponent(name);
  const trpc = useTRPC();
  const team = useStackTeam();
  const detail = useQuery(trpc.stacks.get.queryOptions({ team, name: stack }));
  const n = detail.data?.stack.revision;
  // The revision's text never changes: load it once, not on every live update.
  const revision = useQuery({
    ...trpc.stacks.revision.queryOptions({ team, name: stack, n: n ?? 1 }),
    enabled: n !== undefined,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return (
    <>
      <BackLink href={stackHref(stack, team)}>{stack}</BackLink>
      <PageHeader
        title={`Edit ${stack}`}
        documentTitle={`Edit ${stack}`}
        subtitle={n ? `Starting from revision ${n}; applying writes revision ${n + 1}.` : undefined}
      />
      {detail.data && !detail.data.canChange ? (
        <div className="notice notice-warn" role="alert" data-testid="editor-forbidden">
          <strong>Only operators and above change stacks.</strong>
        </div>
      ) : revision.data ? (
        <StackEditor key={revision.data.n} initialYaml={revision.data.yaml} stack={stack} />
      ) : (
        <QueryStatus error={detail.error ?? revision.error} what="the stack file" />
      )}
    </>
  );
}
