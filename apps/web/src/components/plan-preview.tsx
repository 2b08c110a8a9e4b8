"use client";

import { formatValue } from "../lib/stacks.ts";
import type { ServicePlan, StackPlan } from "../lib/trpc.ts";
import { ToneBadge } from "./tone-badge.tsx";

const ACTION_TONES = { create: "ok", update: "info", remove: "bad", unchanged: "neutral" } as const;

function taskCounts(s: ServicePlan): string {
  const parts: string[] = [];
  if (s.starts > 0) parts.push(`${s.starts} to start`);
  if (s.restarts > 0) parts.push(`${s.restarts} to restart`);
  if (s.stops > 0) parts.push(`${s.stops} to stop`);
  return parts.length > 0 ? parts.join(" · ") : "no tasks change";
}

function ServiceChanges({ service }: { service: ServicePlan }) {
  if (service.changes.length === 0) return null;
  return (
    <table className="changes">
      <tbody>
        {service.changes.map((c) => (
          <tr key={c.field} data-testid="plan-change" data-field={c.field}>
            <td className="mono change-field">{c.field}</td>
            <td className="mono change-values">
              <span className="change-from">{formatValue(c.from)}</span>
              <span className="change-arrow" aria-hidden="true">
                {" → "}
              </span>
              <span className="change-to">{formatValue(c.to)}</span>
            </td>
            <td className="change-note">
              {c.restarts && <span className="restart-note">restarts tasks</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * What a deploy would do, per service: create, update (each changed field,
 * from → to), remove or nothing, and the tasks that would start, stop or be
 * replaced. Unchanged services are folded into one line.
 */
export function PlanPreview({ plan, testId = "plan" }: { plan: StackPlan; testId?: string }) {
  const changed = plan.services.filter((s) => s.action !== "unchanged");
  const unchanged = plan.services.filter((s) => s.action === "unchanged");
  return (
    <div className="plan" data-testid={testId} data-empty={plan.empty}>
      {plan.empty && <p className="muted plan-empty">No changes: every service already matches.</p>}
      {changed.map((s) => (
        <div
          key={s.name}
          className={`plan-service plan-${s.action}`}
          data-testid="plan-service"
          data-service={s.name}
          data-action={s.action}
        >
          <div className="plan-service-head">
            <ToneBadge tone={ACTION_TONES[s.action]} dot={false} value={s.action}>
              {s.action}
            </ToneBadge>
            <strong className="mono">{s.name}</strong>
            <span className="muted">
              replicas{" "}
              {s.replicas.from === s.replicas.to ? s.replicas.to : `${s.replicas.from} → ${s.replicas.to}`}
            </span>
            <span className="plan-tasks" data-testid="plan-tasks">
              {taskCounts(s)}
            </span>
          </div>
          <ServiceChanges service={s} />
        </div>
      ))}
      {unchanged.length > 0 && (
        <p className="muted plan-unchanged">Unchanged: {unchanged.map((s) => s.name).join(", ")}</p>
      )}
    </div>
  );
}
