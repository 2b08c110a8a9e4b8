"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../lib/errors.ts";
import { toDate } from "../lib/format.ts";
import { useNow } from "../lib/now.ts";
import { type JoinToken, useTRPC } from "../lib/trpc.ts";
import { RelativeTime } from "./relative-time.tsx";
import { TokenStatusBadge } from "./state-badge.tsx";

/** The server computed the status when it listed; a token may have expired since. */
function liveStatus(t: JoinToken, now: number): JoinToken["status"] {
  const expires = toDate(t.expiresAt);
  if (t.status === "active" && expires && expires.getTime() <= now) return "expired";
  return t.status;
}

function RevokeButton({ token }: { token: JoinToken }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const revoke = useMutation(
    trpc.joinTokens.revoke.mutationOptions({
      onSettled: () => queryClient.invalidateQueries(trpc.joinTokens.list.queryFilter()),
    }),
  );
  if (revoke.isError) return <span className="form-error">{errorMessage(revoke.error)}</span>;
  if (!confirming) {
    return (
      <button type="button" className="btn btn-sm btn-danger-ghost" onClick={() => setConfirming(true)}>
        Revoke
      </button>
    );
  }
  return (
    <span className="btn-group">
      <button
        type="button"
        className="btn btn-sm btn-danger"
        disabled={revoke.isPending}
        onClick={() => revoke.mutate({ id: token.id })}
      >
        {revoke.isPending ? "Revoking…" : "Confirm revoke"}
      </button>
      <button type="button" className="btn btn-sm btn-ghost" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </span>
  );
}

export function JoinTokensTable({ tokens }: { tokens: JoinToken[] }) {
  const now = useNow();
  if (tokens.length === 0) {
    return <div className="panel panel-empty muted">No join tokens yet. Create one above to add a host.</div>;
  }
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="join-tokens-table">
        <thead>
          <tr>
            <th>Description</th>
            <th>Status</th>
            <th className="num">Uses</th>
            <th>Expires</th>
            <th>Created</th>
            <th>Last used</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => {
            const status = liveStatus(t, now);
            return (
              <tr key={t.id} data-testid="join-token-row" data-token-id={t.id} data-status={status}>
                <td>{t.description || <span className="muted mono">{t.id}</span>}</td>
                <td>
                  <TokenStatusBadge status={status} />
                </td>
                <td className="num">
                  {t.uses} / {t.maxUses}
                </td>
                <td>
                  <RelativeTime value={t.expiresAt} />
                </td>
                <td>
                  <RelativeTime past value={t.createdAt} />
                </td>
                <td>
                  {t.lastUsedAt ? (
                    <RelativeTime past value={t.lastUsedAt} />
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
                <td className="actions">{status === "active" && <RevokeButton token={t} />}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
