import { listStackTasks, type TaskRow } from "@berth/control";
import type { LabContainer } from "../../infra/lab/src/index.ts";
import type { LabWithControlPlane } from "./support.ts";

/**
 * What a stack looks like at one moment on lab hosts: the control plane's live tasks and, per lab
 * host, the stack's containers that really run there (`berth-agent ps` in its namespace).
 */
export interface StackView {
  tasks: TaskRow[];
  /** Running containers of the stack, by lab host index (hosts left out are not looked at). */
  containers: Map<number, LabContainer[]>;
}

export const TASK_LABEL = "berth.task.id";
const STACK_LABEL = "berth.stack";

export const taskIdOf = (c: LabContainer): string => c.config.labels?.[TASK_LABEL] ?? "";

export async function viewStack(
  env: LabWithControlPlane,
  teamId: string,
  stack: string,
  hosts: readonly number[],
): Promise<StackView> {
  const [tasks, ...perHost] = await Promise.all([
    listStackTasks(env.cp.cp.database.db, teamId, stack),
    ...hosts.map((i) => env.lab.host(i).containers()),
  ]);
  const containers = new Map<number, LabContainer[]>();
  for (const [k, i] of hosts.entries()) {
    const mine = (perHost[k] ?? []).filter(
      (c) => c.status === "running" && c.config.labels?.[STACK_LABEL] === stack,
    );
    containers.set(i, mine);
  }
  return { tasks, containers };
}

/** Why the control plane's live tasks are not exactly `want` (replicas per service, all running), or null. */
export function tasksMismatch(tasks: TaskRow[], want: Record<string, number>): string | null {
  for (const [service, replicas] of Object.entries(want)) {
    const mine = tasks.filter((t) => t.service === service);
    const running = mine.filter((t) => t.observed === "running").length;
    if (mine.length !== replicas || running !== replicas)
      return `${service}: ${running} of ${mine.length} live tasks running, want ${replicas}`;
  }
  const extra = tasks.find((t) => !(t.service in want));
  return extra ? `unexpected service ${extra.service}` : null;
}

/** Why the hosts looked at do not run exactly the tasks placed on them, one container each, or null. */
export function containersMismatch(env: LabWithControlPlane, view: StackView): string | null {
  for (const [index, containers] of view.containers) {
    const hostId = env.hostIds[index];
    const expected = new Set(view.tasks.filter((t) => t.hostId === hostId).map((t) => t.id));
    const actual = containers.map(taskIdOf);
    if (actual.length !== expected.size || !actual.every((id) => expected.has(id))) {
      return `${env.lab.host(index).name} runs tasks [${actual.sort().join(", ")}], the control plane placed [${[...expected].sort().join(", ")}] there`;
    }
  }
  return null;
}

/** Containers of one service on the hosts looked at. */
export function containersOf(view: StackView, service: string): Array<{ index: number; c: LabContainer }> {
  return [...view.containers].flatMap(([index, cs]) =>
    cs.filter((c) => c.config.labels?.["berth.service"] === service).map((c) => ({ index, c })),
  );
}

/** The lab host index of a host id. */
export function indexOf(env: LabWithControlPlane, hostId: string | null): number {
  return env.hostIds.indexOf(hostId ?? "");
}

/** A container's environment as the agent recorded it. */
export function envOf(c: LabContainer): Record<string, string> {
  return (c.config.env as Record<string, string> | undefined) ?? {};
}
