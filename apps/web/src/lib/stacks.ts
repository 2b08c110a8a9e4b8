/** Pure helpers for the stack pages: state colours, task grouping, plan values, the sample file. */
import { roleAtLeast } from "./roles.ts";

export type Tone = "ok" | "bad" | "warn" | "info" | "neutral";

/** A task's observed state: running is good, starting up is in progress, ended on purpose is neutral. */
export function taskTone(observed: string): Tone {
  switch (observed) {
    case "running":
      return "ok";
    case "pending":
      return "warn";
    case "assigned":
    case "pulling":
    case "starting":
      return "info";
    case "unhealthy":
    case "failed":
    case "lost":
      return "bad";
    default:
      return "neutral";
  }
}

export function updateTone(state: string): Tone {
  switch (state) {
    case "completed":
      return "ok";
    case "updating":
      return "info";
    case "paused":
    case "rolling_back":
      return "warn";
    case "rolled_back":
      return "bad";
    default:
      return "neutral";
  }
}

/** Running over wanted: all running is good, some is in progress, none (of some) is bad. */
export function replicaTone(running: number, desired: number): Tone {
  if (desired === 0) return "neutral";
  if (running >= desired) return "ok";
  return running === 0 ? "bad" : "warn";
}

/** Whether a fleet role may change stacks (the default team's role is the fleet role). */
export function canChangeStacks(role: string | undefined): boolean {
  return roleAtLeast(role, "operator");
}

export interface HostGroup<T> {
  /** null: not placed on any host yet. */
  hostId: string | null;
  hostName: string;
  tasks: T[];
}

/** Tasks by host, hosts by name, tasks not yet placed last; within a host by service and slot. */
export function groupByHost<
  T extends { hostId: string | null; hostName: string | null; service: string; slot: number },
>(tasks: T[]): HostGroup<T>[] {
  const groups = new Map<string | null, HostGroup<T>>();
  for (const t of tasks) {
    let g = groups.get(t.hostId);
    if (!g) {
      g = { hostId: t.hostId, hostName: t.hostId ? (t.hostName ?? t.hostId) : "Not placed", tasks: [] };
      groups.set(t.hostId, g);
    }
    g.tasks.push(t);
  }
  const out = [...groups.values()];
  for (const g of out) {
    g.tasks.sort((a, b) => a.service.localeCompare(b.service) || a.slot - b.slot);
  }
  return out.sort((a, b) =>
    a.hostId === null ? 1 : b.hostId === null ? -1 : a.hostName.localeCompare(b.hostName),
  );
}

/** A value of a plan's field change, short: strings bare, the rest as JSON, absent as —. */
export function formatValue(value: unknown): string {
  if (value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** What a new stack's editor starts with. */
export const SAMPLE_STACK = `# A stack: services that run together across the fleet.
# Plan shows what would change; Apply deploys it as a new revision.
name: my-stack
services:
  web:
    image: busybox:1.36
    command: ["httpd", "-f", "-p", "8080"]
    environment:
      MODE: production
    ports: ["8080:8080"]
    deploy:
      replicas: 2
      resources:
        limits: { memory: 64M }
`;
