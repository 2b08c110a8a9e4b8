import type { RouterOutputs } from "@berth/web/router";
import { relativeTime } from "./format.ts";
import { formatTable, printable } from "./table.ts";

export type StackRow = RouterOutputs["stacks"]["list"][number];
export type StackDetail = RouterOutputs["stacks"]["get"];
export type ServiceRow = StackDetail["stack"]["services"][number];
export type TaskRow = RouterOutputs["stacks"]["tasks"][number];
export type RevisionRow = RouterOutputs["stacks"]["history"][number];
export type Planned = RouterOutputs["stacks"]["plan"];
export type Deployed = RouterOutputs["stacks"]["deploy"];
export type RevisionDiff = RouterOutputs["stacks"]["diff"];

/** The --team flag every stack command takes. */
export const TEAM_HELP = "the team whose stack it is (its slug)";
export const DEFAULT_TEAM = "default";

/** Stack and service names as the server accepts them. */
export function checkName(what: string, value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(value)) {
    throw new Error(`"${value}" is not a ${what} name (letters, digits, _ . -, at most 63)`);
  }
  return value;
}

export function stacksTable(stacks: readonly StackRow[], now: number): string {
  return formatTable(
    ["NAME", "REVISION", "SERVICES", "TASKS", "UPDATED"],
    stacks.map((s) => [
      s.name,
      s.revision,
      s.services,
      `${s.running}/${s.desired}`,
      relativeTime(s.updatedAt, now),
    ]),
  );
}

function updateText(s: ServiceRow): string {
  if (s.updateState === "completed") return "";
  return s.updateMessage ? `${s.updateState}: ${s.updateMessage}` : s.updateState;
}

export function servicesTable(services: readonly ServiceRow[]): string {
  return formatTable(
    ["NAME", "MODE", "REPLICAS", "IMAGE", "PORTS", "GENERATION", "UPDATE"],
    services.map((s) => [
      s.name,
      s.mode,
      s.mode === "global" ? `${s.running} running` : `${s.running}/${s.replicas}`,
      s.image,
      s.ports.join(", "),
      s.generation,
      updateText(s),
    ]),
  );
}

/** The task's name as `docker stack ps` shows it: service.slot. */
export function taskName(t: Pick<TaskRow, "service" | "slot">): string {
  return `${t.service}.${t.slot}`;
}

/** Why a task is where it is: the reason, with the exit code when it exited. */
export function reasonText(t: Pick<TaskRow, "reason" | "exitCode">): string {
  const exit = t.exitCode === null || t.exitCode === undefined ? "" : `exit ${t.exitCode}`;
  return [exit, t.reason ?? ""].filter(Boolean).join(": ");
}

export const TASK_COLUMNS = ["ID", "NAME", "IMAGE", "HOST", "DESIRED", "OBSERVED", "REASON", "AGE"];

export function tasksTable(tasks: readonly TaskRow[], now: number): string {
  return formatTable(
    TASK_COLUMNS,
    tasks.map((t) => [
      t.id,
      taskName(t),
      t.image,
      t.hostName ?? t.hostId ?? "",
      t.desired,
      `${t.observed} ${relativeTime(t.updatedAt, now)}`,
      reasonText(t),
      relativeTime(t.createdAt, now).replace(/ ago$/, ""),
    ]),
  );
}

function kindText(r: RevisionRow): string {
  return r.kind === "rollback" && r.restoredFrom ? `rollback to ${r.restoredFrom}` : r.kind;
}

export function historyTable(revisions: readonly RevisionRow[], now: number): string {
  return formatTable(
    ["REVISION", "KIND", "AUTHOR", "CREATED", "CURRENT"],
    revisions.map((r) => [
      r.n,
      kindText(r),
      r.authorName,
      relativeTime(r.createdAt, now),
      r.current ? "*" : "",
    ]),
  );
}

/** "web, api": names for a message, at most a few. */
export function nameList(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map(printable).join(", ");
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}
