import {
  type FieldChange,
  formatPath,
  type ServicePlan,
  type SpecWarning,
  type StackPlan,
} from "@berth/spec";
import { printable } from "./table.ts";

const MARK: Record<ServicePlan["action"], string> = {
  create: "+",
  update: "~",
  remove: "-",
  unchanged: " ",
};

const MAX_VALUE = 80;

/** A spec value as the plan shows it: JSON (strings quoted), cut short, "(none)" when absent. */
export function formatValue(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = printable(JSON.stringify(value) ?? String(value));
  return [...text].length > MAX_VALUE ? `${[...text].slice(0, MAX_VALUE - 1).join("")}…` : text;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "2 tasks to start, 1 to restart" — what happens to a service's tasks (or "" when nothing). */
export function taskCounts(p: Pick<ServicePlan, "starts" | "stops" | "restarts">): string {
  const parts = [
    p.starts ? `${p.starts} to start` : "",
    p.restarts ? `${p.restarts} to restart` : "",
    p.stops ? `${p.stops} to stop` : "",
  ].filter(Boolean);
  if (parts.length === 0) return "";
  const total = p.starts + p.restarts + p.stops;
  return `${total === 1 ? "task" : "tasks"}: ${parts.join(", ")}`;
}

function changeLine(change: FieldChange, width: number): string {
  const note = change.restarts ? "" : "   (no restart)";
  return `      ${change.field.padEnd(width)}  ${formatValue(change.from)} → ${formatValue(change.to)}${note}`;
}

function replicasText(s: ServicePlan): string {
  if (s.action === "create") return `${plural(s.replicas.to, "replica")}`;
  if (s.action === "remove") return `had ${plural(s.replicas.from, "replica")}`;
  return s.replicas.from === s.replicas.to
    ? plural(s.replicas.to, "replica")
    : `replicas ${s.replicas.from} → ${s.replicas.to}`;
}

/**
 * The plan as text, Terraform-like: one line per service (+ create,
 * ~ update, - remove), the changed fields under an update (field: from → to),
 * and a closing count of tasks that would start, restart and stop.
 */
export function renderPlan(plan: StackPlan, revision?: { from: number; to?: number }): string {
  const rev = revision
    ? ` (revision ${revision.from === 0 ? "none" : revision.from} → ${revision.to ?? revision.from + 1})`
    : "";
  if (plan.empty)
    return `No changes: stack ${plan.stack} is up to date${revision ? ` at revision ${revision.from}` : ""}.\n`;
  const nameWidth = Math.max(...plan.services.map((s) => s.name.length));
  const lines = [`Stack ${plan.stack}${rev}:`, ""];
  for (const s of plan.services) {
    const counts = taskCounts(s);
    const head = `  ${MARK[s.action]} ${printable(s.name).padEnd(nameWidth)}   ${s.action.padEnd(9)}  ${replicasText(s)}`;
    lines.push(`${head}${counts ? `; ${counts}` : ""}`);
    const width = Math.max(0, ...s.changes.map((c) => c.field.length));
    for (const c of s.changes) lines.push(changeLine(c, width));
  }
  const totals = plan.services.reduce(
    (t, s) => ({ starts: t.starts + s.starts, restarts: t.restarts + s.restarts, stops: t.stops + s.stops }),
    { starts: 0, restarts: 0, stops: 0 },
  );
  const count = (n: number, what: string) => `${n} to ${what}`;
  lines.push(
    "",
    `Tasks: ${count(totals.starts, "start")}, ${count(totals.restarts, "restart")}, ${count(totals.stops, "stop")}.`,
  );
  return `${lines.join("\n")}\n`;
}

/** Warnings as a compiler prints them: `file:line:column: warning: path: message`, one per line. */
export function renderWarnings(fileName: string, warnings: readonly SpecWarning[]): string {
  return warnings
    .map((w) => {
      const where = w.line ? `${fileName}:${w.line}:${w.column ?? 1}` : fileName;
      const at = w.path.length > 0 ? ` ${formatPath(w.path)}:` : "";
      return `${where}: warning:${at} ${printable(w.message)}\n`;
    })
    .join("");
}
