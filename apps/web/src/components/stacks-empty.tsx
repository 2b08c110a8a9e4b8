"use client";

import Link from "next/link";
import { DEFAULT_TEAM, teamQuery } from "../lib/stack-team.ts";

/** No stacks yet: how to deploy the first one, from the CLI or the editor. */
export function StacksEmpty({ canChange, team }: { canChange: boolean; team: string }) {
  return (
    <div className="panel empty" data-testid="stacks-empty">
      <h2>No stacks yet</h2>
      <p className="muted">
        A stack is a Compose file with Swarm's <code>deploy:</code> section: services that Berth runs across
        the fleet and keeps running.
      </p>
      <ol className="steps">
        <li>
          From a terminal, with the Berth CLI logged in:
          <pre className="code">
            berth stack deploy -f stack.yml{team === DEFAULT_TEAM ? "" : ` --team ${team}`}
          </pre>
        </li>
        <li>
          {canChange ? (
            <>
              Or write one here:{" "}
              <Link href={`/stacks/-/new${teamQuery(team)}`} className="btn btn-primary btn-sm">
                New stack
              </Link>
            </>
          ) : (
            <span className="muted">Operators can also write one in the dashboard's editor.</span>
          )}
        </li>
        <li>It appears here as soon as it is deployed; this page updates by itself.</li>
      </ol>
    </div>
  );
}
