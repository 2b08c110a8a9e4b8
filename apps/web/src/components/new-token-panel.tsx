"use client";

import { agentCommand, currentOrigin, formatDateTime } from "../lib/format.ts";
import type { CreatedJoinToken } from "../lib/trpc.ts";
import { CopyButton } from "./copy-button.tsx";
import { SecretPanel } from "./secret-panel.tsx";

/** A join token just created: its only appearance. */
export function NewTokenPanel({ created, onDone }: { created: CreatedJoinToken; onDone: () => void }) {
  const command = agentCommand(currentOrigin(), created.token);
  return (
    <SecretPanel
      title="Join token created"
      notice={
        <>
          Copy it now: this is the only time the token is shown. It expires{" "}
          {formatDateTime(created.expiresAt)} and can be used{" "}
          {created.maxUses === 1 ? "once" : `${created.maxUses} times`}.
        </>
      }
      secret={created.token}
      testIds={{ panel: "new-join-token-panel", secret: "new-join-token", copy: "copy-join-token" }}
      onDone={onDone}
    >
      <p className="label">Run this on the host to join:</p>
      <div className="secret-row">
        <pre className="code" data-testid="join-command">
          {command}
        </pre>
        <CopyButton text={command} label="Copy command" testId="copy-join-command" />
      </div>
    </SecretPanel>
  );
}
