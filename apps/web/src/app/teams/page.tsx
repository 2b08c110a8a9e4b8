"use client";

import { useQuery } from "@tanstack/react-query";
import { PageHeader } from "../../components/page-header.tsx";
import { QueryStatus } from "../../components/query-status.tsx";
import { NewTeamForm, TeamsTable } from "../../components/teams.tsx";
import { roleAtLeast } from "../../lib/roles.ts";
import { useTRPC } from "../../lib/trpc.ts";

export default function TeamsPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const teams = useQuery(trpc.teams.list.queryOptions());
  const fleetAdmin = roleAtLeast(me.data?.role, "admin");
  return (
    <>
      <PageHeader
        title="Teams"
        subtitle={
          fleetAdmin
            ? "Every team. A team owns its stacks and the registry repositories under its slug."
            : "The teams you are in. A team owns its stacks and the registry repositories under its slug."
        }
      />
      {fleetAdmin && <NewTeamForm />}
      {teams.data ? <TeamsTable teams={teams.data} /> : <QueryStatus error={teams.error} what="teams" />}
    </>
  );
}
