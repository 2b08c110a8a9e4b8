"use client";

import { agentCommand, currentOrigin, formatDateTime } from "../lib/format.ts";
import type { CreatedJoinToken } from "../lib/trpc.ts";
import { CopyButton } from "./copy-button.tsx";

/** A join token just created: its only appearance. */
export function NewTokenPanel({ created, onDone }: { created: CreatedJoinToken; onDone: () => void }) {
  const command = agentCommand(currentOrigin(), created.token);
  return (
    <section className="panel panel-highlight" data-testid="new-join-token-panel" aria-live="polite">
      <div className="panel-head">
        <h2>Join token created</h2>
        <button type="button" className="btn btn-ghost btn-sm" onClick={onDone}>
          Done
        </button>
      </div>
      <p className="notice notice-warn">
        Copy it now: this is the only time the token is shown. It expires {formatDateTime(created.expiresAt)}{" "}
        and can be used {created.maxUses === 1 ? "once" : `${created.maxUses} times`}.
      </p>
      <div className="secret-row">
        <code className="secret" data-testid="new-join-token">
          {created.token}
        </code>
        <CopyButton text={created.token} testId="copy-join-token" />
      </div>
      <p className="label">Run this on the host to join:</p>
      <div className="secret-row">
        <pre className="code" data-testid="join-command">
          {command}
        </pre>
        <CopyButton text={command} label="Copy command" testId="copy-join-command" />
      </div>
    </section>
  );
}
