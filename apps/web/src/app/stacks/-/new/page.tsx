"use client";

import { BackLink } from "../../../../components/not-found.tsx";
import { PageHeader } from "../../../../components/page-header.tsx";
import { StackEditor } from "../../../../components/stack-editor.tsx";
import { DEFAULT_TEAM, teamQuery, useStackTeam, useTeams } from "../../../../lib/stack-team.ts";
import { canChangeStacks, SAMPLE_STACK } from "../../../../lib/stacks.ts";

/** A new stack: the editor with a sample file. (Under /stacks/-/ so no stack name can hide it.) */
export default function NewStackPage() {
  const team = useStackTeam();
  const { role } = useTeams(team);
  return (
    <>
      <BackLink href={`/stacks${teamQuery(team)}`}>Stacks</BackLink>
      <PageHeader
        title="New stack"
        subtitle={`A Compose file with Swarm's deploy: section${team === DEFAULT_TEAM ? "" : ` for team ${team}`}. Change the sample, plan, then apply.`}
      />
      {role && !canChangeStacks(role) ? (
        <div className="notice notice-warn" role="alert" data-testid="editor-forbidden">
          <strong>Only operators and above deploy stacks.</strong> As a {role} of {team} you can look at them.
        </div>
      ) : (
        <StackEditor initialYaml={SAMPLE_STACK} />
      )}
    </>
  );
}
