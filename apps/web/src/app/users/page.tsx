"use client";

import { useQuery } from "@tanstack/react-query";
import { PageHeader } from "../../components/page-header.tsx";
import { QueryStatus } from "../../components/query-status.tsx";
import { NewUserForm, UsersTable } from "../../components/users.tsx";
import { errorCode, errorMessage } from "../../lib/errors.ts";
import { useTRPC } from "../../lib/trpc.ts";

export default function UsersPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const users = useQuery(trpc.users.list.queryOptions());
  const header = (
    <PageHeader
      title="Users"
      subtitle="Everyone who can log in. A user's role in the default team is their role across the fleet; teams give more."
    />
  );
  if (errorCode(users.error) === "FORBIDDEN") {
    return (
      <>
        {header}
        <div className="notice notice-warn" role="alert" data-testid="users-forbidden">
          <strong>Only fleet owners and admins manage users.</strong> {errorMessage(users.error)}.
        </div>
      </>
    );
  }
  return (
    <>
      {header}
      {me.data && <NewUserForm myRole={me.data.role} />}
      {users.data ? (
        <UsersTable users={users.data} me={me.data ?? null} />
      ) : (
        <QueryStatus error={users.error} what="users" />
      )}
    </>
  );
}
