import type { Constraint } from "@berth/spec";
import type { HostLoad } from "./load.ts";
import type { PublishedPort, SchedulerHost, TaskDemand } from "./types.ts";

/** The value a constraint or spread path reads from a host; undefined when the host has none. */
export function hostField(host: SchedulerHost, field: string): string | undefined {
  if (field === "node.id") return host.id;
  if (field === "node.hostname") return host.hostname;
  if (field === "node.platform.os") return host.os;
  if (field === "node.platform.arch") return host.arch;
  if (field.startsWith("node.labels.")) return host.labels[field.slice("node.labels.".length)];
  return undefined;
}

export function satisfies(host: SchedulerHost, c: Constraint): boolean {
  const value = hostField(host, c.field);
  return c.op === "==" ? value === c.value : value !== c.value;
}

/** Why `host` cannot run a task of `demand`, or null when it can. Static reasons first. */
export function staticMisfit(host: SchedulerHost, demand: TaskDemand): string | null {
  if (host.state !== "ready") return `host ${host.state}`;
  for (const c of demand.constraints) {
    if (!satisfies(host, c)) return `constraint ${c.field} ${c.op} ${c.value} not met`;
  }
  return null;
}

/** Floating-point slack when comparing CPU sums such as 0.1 + 0.2. */
const EPSILON = 1e-9;

export function dynamicMisfit(host: SchedulerHost, load: HostLoad, demand: TaskDemand): string | null {
  const cpus = demand.reservations.cpus ?? 0;
  const memory = demand.reservations.memoryBytes ?? 0;
  if (load.cpus + cpus > host.capacity.cpus + EPSILON) return "not enough CPU";
  if (load.memoryBytes + memory > host.capacity.memoryBytes) return "not enough memory";
  if (demand.maxReplicasPerNode && (load.byService.get(demand.serviceId) ?? 0) >= demand.maxReplicasPerNode) {
    return "max_replicas_per_node reached";
  }
  for (const p of demand.ports) {
    if (portTaken(load.ports, p)) return `port ${p.port}/${p.protocol} in use`;
  }
  return null;
}

export function portKey(p: PublishedPort): string {
  return `${p.port}/${p.protocol}`;
}

/** Two bindings of one port clash unless both name different, specific addresses. */
function portTaken(bound: Map<string, (string | undefined)[]>, p: PublishedPort): boolean {
  const ips = bound.get(portKey(p));
  if (!ips) return false;
  return ips.some((ip) => ip === undefined || p.hostIp === undefined || ip === p.hostIp);
}
