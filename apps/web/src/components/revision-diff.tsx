"use client";

import { useQuery } from "@tanstack/react-query";
import { useStackTeam } from "../lib/stack-team.ts";
import { useTRPC } from "../lib/trpc.ts";
import { PlanPreview } from "./plan-preview.tsx";
import { QueryStatus } from "./query-status.tsx";
import { YamlDiff } from "./yaml-diff.tsx";

/** Revision n against revision n−1: the field-level changes and the YAML. The first revision is all new. */
export function RevisionDiff({ stack, n }: { stack: string; n: number }) {
  const trpc = useTRPC();
  const team = useStackTeam();
  const first = n === 1;
  const diff = useQuery({
    ...trpc.stacks.diff.queryOptions({ team, name: stack, from: n - 1, to: n }),
    enabled: !first,
  });
  const revision = useQuery({
    ...trpc.stacks.revision.queryOptions({ team, name: stack, n }),
    enabled: first,
  });
  if (first) {
    if (!revision.data) return <QueryStatus error={revision.error} what={`revision ${n}`} />;
    return (
      <div className="revision-diff" data-testid="revision-diff" data-n={n}>
        <p className="muted">The first revision: every service was created.</p>
        <YamlDiff before="" after={revision.data.yaml} />
      </div>
    );
  }
  if (!diff.data) return <QueryStatus error={diff.error} what={`the diff of revision ${n}`} />;
  return (
    <div className="revision-diff" data-testid="revision-diff" data-n={n}>
      <h3 className="diff-title">Changes</h3>
      <PlanPreview plan={diff.data.plan} testId="revision-plan" />
      <h3 className="diff-title">
        YAML, revision {diff.data.from.n} → {diff.data.to.n}
      </h3>
      <YamlDiff before={diff.data.from.yaml} after={diff.data.to.yaml} />
    </div>
  );
}
