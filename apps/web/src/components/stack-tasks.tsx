"use client";

import Link from "next/link";
import { groupByHost, taskTone } from "../lib/stacks.ts";
import type { StackTask } from "../lib/trpc.ts";
import { RelativeTime } from "./relative-time.tsx";
import { ToneBadge } from "./tone-badge.tsx";

/** The stack's live tasks, one panel per host; tasks not placed yet last, with the scheduler's reason. */
export function TasksByHost({ tasks }: { tasks: StackTask[] }) {
  if (tasks.length === 0) {
    return <div className="panel panel-empty muted">No tasks: every service is scaled to zero.</div>;
  }
  return (
    <div className="task-groups" data-testid="tasks-by-host">
      {groupByHost(tasks).map((g) => (
        <section
          key={g.hostId ?? "-"}
          className="panel table-wrap task-group"
          data-testid="task-group"
          data-host={g.hostName}
        >
          <div className="task-group-head">
            {g.hostId ? (
              <Link href={`/hosts/${encodeURIComponent(g.hostId)}`} className="strong-link">
                {g.hostName}
              </Link>
            ) : (
              <strong className="muted">{g.hostName}</strong>
            )}
            <span className="muted">
              {g.tasks.length} {g.tasks.length === 1 ? "task" : "tasks"}
            </span>
          </div>
          <table className="table">
            <thead>
              <tr>
                <th className="col-task">Task</th>
                <th>Image</th>
                <th className="col-state">State</th>
                <th className="col-since">Since</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {g.tasks.map((t) => (
                <tr
                  key={t.id}
                  data-testid="task-row"
                  data-task={`${t.service}.${t.slot}`}
                  data-observed={t.observed}
                >
                  <td className="mono" title={t.id}>
                    {t.service}.{t.slot}
                  </td>
                  <td className="mono truncate" title={t.image}>
                    {t.image}
                  </td>
                  <td>
                    <ToneBadge tone={taskTone(t.observed)} testId="task-state" value={t.observed}>
                      {t.observed}
                    </ToneBadge>
                    {t.desired !== "running" && <span className="muted"> → {t.desired}</span>}
                  </td>
                  <td>
                    <RelativeTime past value={t.updatedAt} />
                  </td>
                  <td className="reason" data-testid="task-reason">
                    {t.reason ?? <span className="muted">—</span>}
                    {t.exitCode !== null && <span className="muted"> (exit {t.exitCode})</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
