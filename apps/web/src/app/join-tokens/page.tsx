"use client";

import { useQuery } from "@tanstack/react-query";
import { JoinTokenForm } from "../../components/join-token-form.tsx";
import { JoinTokensTable } from "../../components/join-tokens-table.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { QueryStatus } from "../../components/query-status.tsx";
import { errorCode, errorMessage } from "../../lib/errors.ts";
import { useLiveHosts } from "../../lib/live.ts";
import { useTRPC } from "../../lib/trpc.ts";

export default function JoinTokensPage() {
  const trpc = useTRPC();
  // A host joining uses up a token: refresh the list when hosts change.
  useLiveHosts([trpc.joinTokens.list.queryFilter()]);
  const tokens = useQuery(trpc.joinTokens.list.queryOptions());
  const header = (
    <PageHeader
      title="Join tokens"
      subtitle="One-time secrets that let a new host's agent join the fleet. Each token is shown only when it is created."
    />
  );

  if (errorCode(tokens.error) === "FORBIDDEN") {
    return (
      <>
        {header}
        <div className="notice notice-warn" role="alert" data-testid="join-tokens-forbidden">
          <strong>Only team owners and admins manage join tokens.</strong> {errorMessage(tokens.error)}.
        </div>
      </>
    );
  }
  return (
    <>
      {header}
      <JoinTokenForm />
      <h2 className="section-title">Tokens</h2>
      {tokens.data ? (
        <JoinTokensTable tokens={tokens.data} />
      ) : (
        <QueryStatus error={tokens.error} what="join tokens" />
      )}
    </>
  );
}
