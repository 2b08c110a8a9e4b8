"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../lib/errors.ts";
import { useStackTeam } from "../lib/stack-team.ts";
import { type StackRevision, useTRPC } from "../lib/trpc.ts";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { PlanPreview } from "./plan-preview.tsx";
import { RelativeTime } from "./relative-time.tsx";
import { RevisionDiff } from "./revision-diff.tsx";

export function revisionLabel(r: Pick<StackRevision, "kind" | "restoredFrom">): string {
  return r.kind === "rollback" && r.restoredFrom ? `rollback of ${r.restoredFrom}` : r.kind;
}

/** Rolling back to `to`: what would change from the current revision, then the new revision. */
function RollbackDialog(props: { stack: string; current: number; to: number | null; onClose: () => void }) {
  const trpc = useTRPC();
  const team = useStackTeam();
  const queryClient = useQueryClient();
  const { to } = props;
  const preview = useQuery({
    ...trpc.stacks.diff.queryOptions({ team, name: props.stack, from: props.current, to: to ?? 1 }),
    enabled: to !== null,
  });
  const rollback = useMutation(
    trpc.stacks.rollback.mutationOptions({
      onSuccess: () => props.onClose(),
      onSettled: () => queryClient.invalidateQueries(trpc.stacks.pathFilter()),
    }),
  );
  return (
    <ConfirmDialog
      open={to !== null}
      title={`Roll back ${props.stack} to revision ${to}?`}
      confirmLabel={`Roll back to ${to}`}
      busyLabel="Rolling back…"
      busy={rollback.isPending}
      error={rollback.isError ? errorMessage(rollback.error) : null}
      testId="rollback-dialog"
      onCancel={() => {
        rollback.reset();
        props.onClose();
      }}
      onConfirm={() => to !== null && rollback.mutate({ team, name: props.stack, to })}
    >
      <p>
        Every service goes back to revision {to}'s image, configuration and environment together, as a new
        revision {props.current + 1}.
      </p>
      {preview.data ? (
        <PlanPreview plan={preview.data.plan} testId="rollback-plan" />
      ) : (
        <p className="muted">{preview.error ? errorMessage(preview.error) : "Working out what changes…"}</p>
      )}
    </ConfirmDialog>
  );
}

/** Revisions newest first; the selected one's diff against the one before it; rollback to any other. */
export function StackHistory({
  stack,
  history,
  canChange,
}: {
  stack: string;
  history: StackRevision[];
  canChange: boolean;
}) {
  const current = history.find((r) => r.current)?.n ?? history[0]?.n ?? 1;
  const [picked, setPicked] = useState<number | null>(null);
  const [rollbackTo, setRollbackTo] = useState<number | null>(null);
  // The newest revision until one is picked; a new revision arriving live becomes the default.
  const selected = picked !== null && history.some((r) => r.n === picked) ? picked : current;
  return (
    <div className="history" data-testid="stack-history">
      <ol className="panel revisions">
        {history.map((r) => (
          <li
            key={r.n}
            className={r.n === selected ? "revision selected" : "revision"}
            data-testid="revision-row"
            data-n={r.n}
            data-kind={r.kind}
            data-current={r.current}
          >
            <button
              type="button"
              className="revision-pick"
              onClick={() => setPicked(r.n)}
              aria-pressed={r.n === selected}
            >
              <span className="revision-n mono">#{r.n}</span>
              <span className="revision-kind" data-testid="revision-kind">
                {revisionLabel(r)}
              </span>
              {r.current && <span className="badge badge-tone-ok">current</span>}
              <span className="revision-meta muted">
                {r.authorName} · <RelativeTime past value={r.createdAt} />
              </span>
            </button>
            {canChange && !r.current && (
              <button
                type="button"
                className="btn btn-sm btn-ghost revision-rollback"
                onClick={() => setRollbackTo(r.n)}
                data-testid="rollback"
              >
                Roll back to this
              </button>
            )}
          </li>
        ))}
      </ol>
      <div className="panel revision-detail">
        <RevisionDiff key={selected} stack={stack} n={selected} />
      </div>
      {canChange && (
        <RollbackDialog stack={stack} current={current} to={rollbackTo} onClose={() => setRollbackTo(null)} />
      )}
    </div>
  );
}
