import type { Constraint } from "@berth/spec";

/**
 * What the scheduler sees: a read-only snapshot of the fleet (hosts and the
 * tasks already placed on them) and the tasks waiting for a host. It
 * returns a plan; writing it (in batches, with optimistic concurrency) is the
 * caller's business.
 */
export interface SchedulerHost {
  id: string;
  hostname: string;
  state: "ready" | "down" | "draining";
  labels: Record<string, string>;
  os: string;
  arch: string;
  /** What the host offers to reservations. */
  capacity: { cpus: number; memoryBytes: number };
}

export interface PublishedPort {
  port: number;
  protocol: "tcp" | "udp";
  /** Bound address; absent: every address. */
  hostIp?: string;
}

/** What a task asks of its host, the same for every task of one service generation. */
export interface TaskDemand {
  serviceId: string;
  reservations: { cpus?: number; memoryBytes?: number };
  ports: PublishedPort[];
  constraints: Constraint[];
  /** Label paths to spread over in order, e.g. "node.labels.zone". */
  spread: string[];
  maxReplicasPerNode?: number;
}

/** A task that already holds a host: it uses resources and ports there. */
export interface PlacedTask extends TaskDemand {
  id: string;
  hostId: string;
}

export interface PendingTask extends TaskDemand {
  id: string;
}

export type Strategy = "spread" | "binpack";

export interface Snapshot {
  hosts: SchedulerHost[];
  placed: PlacedTask[];
}

export interface Assignment {
  taskId: string;
  hostId: string;
}

export interface Unplaced {
  taskId: string;
  /** Why no host would do, counted over the hosts, e.g. "3 hosts: not enough memory; 2 hosts: down". */
  reason: string;
}

export interface Placement {
  assignments: Assignment[];
  unplaced: Unplaced[];
}
