import type { Db } from "@berth/db";
import type { TaskStatusEntry } from "@berth/protocol";
import { sql } from "drizzle-orm";
import { insertEvents } from "./bulk.ts";

/**
 * What an agent reported of its tasks, written where it changes something:
 * only tasks assigned to that host, only when the state, exit code or
 * reason differs. Each change is an event carrying the reason. Returns how
 * many tasks changed, and how many of those the orchestrator must look at.
 */
export async function applyTaskStatus(
  db: Db,
  hostId: string,
  statuses: TaskStatusEntry[],
): Promise<{ changed: number; significant: number }> {
  if (statuses.length === 0) return { changed: 0, significant: 0 };
  // The agent's `pending` (queued on the host) is the control plane's `assigned`.
  const state = statuses.map((s) => (s.state === "pending" ? "assigned" : s.state));
  const result = await db.execute<{
    id: string;
    observed: string;
    reason: string | null;
    exit_code: number | null;
    slot: number;
  }>(sql`
    update tasks set
      observed = v.state,
      exit_code = coalesce(v.exit_code, case when v.state in ('exited', 'failed', 'shutdown') then tasks.exit_code end),
      reason = coalesce(v.reason, case when v.state = tasks.observed then tasks.reason end),
      container_id = coalesce(v.container_id, tasks.container_id),
      started_at = case when v.state = 'running' and tasks.started_at is null then now() else tasks.started_at end,
      finished_at = case when v.state in ('exited', 'failed', 'shutdown') then coalesce(tasks.finished_at, now())
                         else tasks.finished_at end,
      version = tasks.version + 1,
      updated_at = now()
    from (select unnest(${sql.param(statuses.map((s) => s.taskId))}::text[]) as id,
                 unnest(${sql.param(state)}::text[]) as state,
                 unnest(${sql.param(statuses.map((s) => s.exitCode ?? null))}::int[]) as exit_code,
                 unnest(${sql.param(statuses.map((s) => s.reason ?? null))}::text[]) as reason,
                 unnest(${sql.param(statuses.map((s) => s.containerId ?? null))}::text[]) as container_id) v
    where tasks.id = v.id and tasks.host_id = ${hostId}
      and (tasks.observed is distinct from v.state
        or (v.exit_code is not null and tasks.exit_code is distinct from v.exit_code)
        or (v.reason is not null and tasks.reason is distinct from v.reason))
    returning tasks.id, tasks.observed, tasks.reason, tasks.exit_code, tasks.slot`);
  if (result.rows.length === 0) return { changed: 0, significant: 0 };
  await insertEvents(
    db,
    result.rows.map((r) => ({
      kind: `task.${r.observed}`,
      subjectType: "task",
      subjectId: r.id,
      message: describe(r.observed, r.exit_code, r.reason),
      data: { hostId, ...(r.exit_code !== null ? { exitCode: r.exit_code } : {}) },
    })),
  );
  return {
    changed: result.rows.length,
    significant: result.rows.filter((r) => SIGNIFICANT.has(r.observed)).length,
  };
}

/**
 * States the orchestrator acts on (a task running — for monitor windows and
 * start-first —, unhealthy, or ended). Progress on the way (pulling,
 * starting) is recorded but wakes nobody: with ten thousand tasks starting at
 * once, that is most of the traffic.
 */
const SIGNIFICANT = new Set(["running", "unhealthy", "exited", "failed", "shutdown"]);

function describe(state: string, exitCode: number | null, reason: string | null): string {
  const code =
    exitCode !== null && (state === "exited" || state === "failed") ? ` with code ${exitCode}` : "";
  return `${state}${code}${reason ? `: ${reason}` : ""}`;
}
