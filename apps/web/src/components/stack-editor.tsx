"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { errorCode, errorMessage } from "../lib/errors.ts";
import { type FileIssue, parseIssues } from "../lib/spec-issues.ts";
import { useStackTeam } from "../lib/stack-team.ts";
import { type PlanResult, useTRPC } from "../lib/trpc.ts";
import { PlanPreview } from "./plan-preview.tsx";
import { stackHref } from "./stacks-table.tsx";
import { moveCaret, YamlInput } from "./yaml-input.tsx";

/** The name issues are reported under; the error list strips it again. */
const FILE_NAME = "stack.yml";

function IssueList({
  issues,
  onPick,
}: {
  issues: FileIssue[];
  onPick: (line: number, column: number) => void;
}) {
  return (
    <ul className="issues" data-testid="plan-errors">
      {issues.map((issue) => (
        <li
          key={`${issue.line}:${issue.column}:${issue.message}`}
          data-testid="plan-error"
          data-line={issue.line ?? undefined}
          data-column={issue.column ?? undefined}
        >
          {issue.line !== null ? (
            <button
              type="button"
              className="issue-link"
              onClick={() => onPick(issue.line!, issue.column ?? 1)}
            >
              <span className="mono issue-where">
                {issue.line}:{issue.column}
              </span>
              <span>{issue.message}</span>
            </button>
          ) : (
            <span className="issue-plain">{issue.message}</span>
          )}
        </li>
      ))}
    </ul>
  );
}

/**
 * The stack file editor: Plan sends the text to the control plane and shows
 * what deploying it would do; Apply deploys exactly the text that was
 * planned, so it is enabled only while the text is unchanged since a plan
 * that succeeded.
 */
export function StackEditor({ initialYaml, stack }: { initialYaml: string; stack?: string }) {
  const trpc = useTRPC();
  const team = useStackTeam();
  const router = useRouter();
  const queryClient = useQueryClient();
  const textarea = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState(initialYaml);
  const [planned, setPlanned] = useState<{ text: string; result: PlanResult } | null>(null);
  const [failedText, setFailedText] = useState<string | null>(null);
  const plan = useMutation(
    trpc.stacks.plan.mutationOptions({
      onSuccess: (result, input) => {
        setPlanned({ text: input.yaml, result });
        setFailedText(null);
      },
      onError: (_err, input) => {
        setPlanned(null);
        setFailedText(input.yaml);
      },
    }),
  );
  const deploy = useMutation(
    trpc.stacks.deploy.mutationOptions({
      onSuccess: async (result) => {
        await queryClient.invalidateQueries(trpc.stacks.pathFilter());
        router.push(stackHref(result.plan.stack, team));
      },
    }),
  );
  const issues = useMemo(
    () =>
      plan.error && errorCode(plan.error) === "BAD_REQUEST"
        ? parseIssues(errorMessage(plan.error), FILE_NAME)
        : [],
    [plan.error],
  );
  const issueLines = useMemo(
    () => new Set(issues.flatMap((i) => (i.line !== null && failedText === text ? [i.line] : []))),
    [issues, failedText, text],
  );
  const fresh = planned !== null && planned.text === text;
  // Closing or reloading the tab with unapplied changes asks first.
  const dirty = text !== initialYaml && !deploy.isSuccess;
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);
  const runPlan = () => {
    if (text.trim() === "" || plan.isPending) return;
    deploy.reset();
    plan.mutate({ team, yaml: text, fileName: FILE_NAME, ...(stack ? { name: stack } : {}) });
  };
  const apply = () => {
    if (!fresh || planned.result.plan.empty) return;
    deploy.mutate({ team, yaml: planned.text, fileName: FILE_NAME, ...(stack ? { name: stack } : {}) });
  };
  const result = planned?.result;
  return (
    <div className="editor-layout" data-testid="stack-editor">
      <div className="editor-main">
        <div className="editor-toolbar">
          <button
            type="button"
            className="btn"
            onClick={runPlan}
            disabled={plan.isPending || text.trim() === ""}
            data-testid="plan-button"
            title="Ctrl+Enter"
          >
            {plan.isPending ? "Planning…" : "Plan"}
          </button>
          <button
            type="button"
            className="btn btn-primary"
            onClick={apply}
            disabled={!fresh || planned.result.plan.empty || deploy.isPending}
            data-testid="apply-button"
          >
            {deploy.isPending ? "Applying…" : "Apply"}
          </button>
          <span className="editor-status muted" data-testid="editor-status">
            {planned && !fresh
              ? "The text changed since the plan: plan again to apply it."
              : fresh && planned.result.plan.empty
                ? "Nothing to apply: the file matches what runs."
                : fresh
                  ? planned.result.revision === 0
                    ? `Apply creates stack ${planned.result.plan.stack}.`
                    : `Apply deploys revision ${planned.result.revision + 1} of ${planned.result.plan.stack}.`
                  : "Plan shows what the file would change; Apply is enabled after a plan."}
          </span>
        </div>
        <YamlInput
          value={text}
          onChange={setText}
          onSubmit={runPlan}
          issueLines={issueLines}
          textareaRef={textarea}
        />
      </div>
      <aside className="panel editor-side" data-testid="plan-panel" aria-live="polite">
        <h2>Plan</h2>
        {deploy.isError && (
          <div className="notice notice-error" role="alert" data-testid="apply-error">
            Could not apply: {errorMessage(deploy.error)}
          </div>
        )}
        {plan.isError ? (
          issues.length > 0 ? (
            <>
              <p className="form-error">
                The file has {issues.length} {issues.length === 1 ? "problem" : "problems"}
                {failedText !== text && " (in the text as it was planned)"}:
              </p>
              <IssueList
                issues={issues}
                onPick={(line, column) => textarea.current && moveCaret(textarea.current, line, column)}
              />
            </>
          ) : (
            <div className="notice notice-error" role="alert">
              {errorMessage(plan.error)}
            </div>
          )
        ) : result ? (
          <div className={fresh ? undefined : "plan-stale"}>
            {result.warnings.length > 0 && (
              <ul className="warnings" data-testid="plan-warnings">
                {result.warnings.map((w, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: warnings are listed once per plan
                  <li key={i}>
                    {w.line ? (
                      <button
                        type="button"
                        className="issue-link"
                        onClick={() =>
                          textarea.current && moveCaret(textarea.current, w.line!, w.column ?? 1)
                        }
                      >
                        <span className="mono issue-where">
                          {w.line}:{w.column ?? 1}
                        </span>
                        <span>{w.message}</span>
                      </button>
                    ) : (
                      w.message
                    )}
                  </li>
                ))}
              </ul>
            )}
            <PlanPreview plan={result.plan} />
          </div>
        ) : (
          <p className="muted">
            Press Plan (or Ctrl+Enter) to see, per service, what would be created, changed or removed, and
            which tasks would start, stop or restart.
          </p>
        )}
      </aside>
    </div>
  );
}
