import { getStack, listStackTasks, type TaskRow } from "@berth/control";
import { expect } from "vitest";
import type { LabContainer } from "../../infra/lab/src/index.ts";
import { waitFor } from "../support/wait.ts";
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

/**
 * Wait until the stack runs exactly `want` (per service), no update in progress: first in the control
 * plane's records (cheap, polled often), then as containers on `hosts` (each look runs `berth-agent ps`
 * on every host), where `check` may ask more of them (e.g. their environment). The error says what was
 * last seen wrong.
 */
export async function waitConverged(
  env: LabWithControlPlane,
  teamId: string,
  stack: string,
  what: string,
  want: Record<string, number>,
  o: { hosts: readonly number[]; check?: (view: StackView) => string | null },
): Promise<StackView> {
  let last = "";
  const db = env.cp.cp.database.db;
  try {
    await waitFor(
      `${what}: tasks running in the control plane`,
      async () => {
        const [tasks, { services }] = await Promise.all([
          listStackTasks(db, teamId, stack),
          getStack(db, teamId, stack),
        ]);
        const busy = services.find((s) => s.updateState === "updating" || s.updateState === "rolling_back");
        last = busy ? `${busy.name} is ${busy.updateState}` : (tasksMismatch(tasks, want) ?? "");
        return !last;
      },
      90_000,
      100,
    );
    return await waitFor(
      `${what}: containers on the hosts`,
      async () => {
        const view = await viewStack(env, teamId, stack, o.hosts);
        last = tasksMismatch(view.tasks, want) ?? containersMismatch(env, view) ?? o.check?.(view) ?? "";
        return last ? null : view;
      },
      30_000,
      300,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${last}`);
  }
}

/** A check for waitConverged: every container has VERSION=`version` in its environment. */
export const allOnVersion = (version: number) => (view: StackView) => {
  const other = [...view.containers.values()].flat().find((c) => envOf(c).VERSION !== String(version));
  return other ? `${other.name} has VERSION=${envOf(other).VERSION}, want ${version}` : null;
};

/** GET `path` on the address of every host running a task of `service`, each time from another lab host. */
export async function expectAnswers(
  env: LabWithControlPlane,
  view: StackView,
  service: string,
  path: string,
  body: string,
): Promise<void> {
  for (const t of view.tasks.filter((t) => t.service === service)) {
    const host = env.lab.host(indexOf(env, t.hostId));
    const from = env.lab.host((host.index + 1) % env.lab.hosts.length);
    const page = await from.http(`http://${host.address}${path}`);
    expect(page.status, `${from.name} → ${host.address}${path}: ${page.error}`).toBe(200);
    expect(page.body).toContain(body);
  }
}
