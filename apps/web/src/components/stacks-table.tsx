"use client";

import Link from "next/link";
import { DEFAULT_TEAM, teamQuery } from "../lib/stack-team.ts";
import { replicaTone } from "../lib/stacks.ts";
import type { StackSummary } from "../lib/trpc.ts";
import { RelativeTime } from "./relative-time.tsx";
import { ToneBadge } from "./tone-badge.tsx";

/** A stack's page; its team goes along as `?team=` unless it is the default. */
export function stackHref(name: string, team: string = DEFAULT_TEAM): string {
  return `/stacks/${encodeURIComponent(name)}${teamQuery(team)}`;
}

/** A stack's editor. */
export function stackEditHref(name: string, team: string = DEFAULT_TEAM): string {
  return `/stacks/${encodeURIComponent(name)}/edit${teamQuery(team)}`;
}

export function StacksTable({ stacks, team }: { stacks: StackSummary[]; team: string }) {
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="stacks-table">
        <thead>
          <tr>
            <th>Name</th>
            <th className="num">Services</th>
            <th>Tasks running</th>
            <th className="num">Revision</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {stacks.map((s) => (
            <tr
              key={s.id}
              data-testid="stack-row"
              data-stack-name={s.name}
              data-revision={s.revision}
              data-running={s.running}
              data-desired={s.desired}
            >
              <td>
                <Link href={stackHref(s.name, team)} className="strong-link">
                  {s.name}
                </Link>
              </td>
              <td className="num">{s.services}</td>
              <td>
                <ToneBadge tone={replicaTone(s.running, s.desired)} testId="stack-tasks">
                  {s.running} / {s.desired}
                </ToneBadge>
              </td>
              <td className="num mono">{s.revision}</td>
              <td>
                <RelativeTime past value={s.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
