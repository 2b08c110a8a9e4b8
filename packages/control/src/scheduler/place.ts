import { dynamicMisfit, hostField, staticMisfit } from "./filter.ts";
import { Heap } from "./heap.ts";
import { addToLoad, type HostLoad, loadsOf } from "./load.ts";
import type {
  Assignment,
  PendingTask,
  Placement,
  SchedulerHost,
  Snapshot,
  Strategy,
  TaskDemand,
  Unplaced,
} from "./types.ts";

/**
 * Place pending tasks on hosts: a pure function over a snapshot (Nomad's
 * scheduler over a read-only state). For each task, hosts are filtered —
 * state, constraints, free reservations, host ports, max replicas per node —
 * and the best is picked: `spread` (default) puts a service's tasks on the
 * label groups and hosts running fewest of them; `binpack` fills the fullest
 * host that still fits. Ties go to the lower host id, so a plan is
 * reproducible. A task that fits nowhere comes back with the reasons,
 * counted over the hosts.
 *
 * Cost: tasks with the same demand share a group of candidate heaps, so a
 * placement costs O(groups × log hosts), not O(hosts).
 */
export function place(snapshot: Snapshot, pending: PendingTask[], strategy: Strategy = "spread"): Placement {
  const hosts: IndexedHost[] = [...snapshot.hosts]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((h, index) => ({ ...h, index }));
  const loads = loadsOf(
    hosts.map((h) => h.id),
    snapshot.placed,
  );
  const state: State = {
    hosts,
    loads,
    strategy,
    versions: new Map(),
    groups: new Map(),
    spreadCounts: new Map(),
  };
  const seen = new Set(snapshot.placed.map((t) => t.id));
  const assignments: Assignment[] = [];
  const unplaced: Unplaced[] = [];

  for (const task of pending) {
    if (seen.has(task.id)) continue;
    seen.add(task.id);
    const counts = spreadCountsOf(state, task);
    const group = groupOf(state, task);
    const best = pick(state, group, counts);
    if (!best) {
      unplaced.push({ taskId: task.id, reason: explain(group.excluded, hosts.length) });
      continue;
    }
    addToLoad(loads.get(best.id)!, task);
    task.spread.forEach((field, i) => {
      const value = hostField(best, field) ?? "";
      counts[i]!.set(value, (counts[i]!.get(value) ?? 0) + 1);
    });
    requeue(state, best);
    assignments.push({ taskId: task.id, hostId: best.id });
  }
  return { assignments, unplaced };
}

type IndexedHost = SchedulerHost & { index: number };

interface State {
  hosts: IndexedHost[];
  loads: Map<string, HostLoad>;
  strategy: Strategy;
  /** Bumped whenever a host's load changes; heap entries of older versions are stale. */
  versions: Map<string, number>;
  groups: Map<string, DemandGroup>;
  /** Per service, per spread preference: tasks per label value. */
  spreadCounts: Map<string, Map<string, number>[]>;
}

interface Candidate {
  host: IndexedHost;
  key: number[];
  version: number;
}

/**
 * Tasks with one and the same demand share a group: the reasons hosts were
 * ruled out, and the candidates bucketed by their spread-label values, a heap
 * in each bucket. Within a group a host that does not fit never fits again —
 * loads only grow during one run — so it leaves the group for good.
 */
interface DemandGroup {
  demand: TaskDemand;
  excluded: Map<string, number>;
  buckets: Bucket[];
  bucketOf: Map<string, Bucket>;
}

interface Bucket {
  /** The hosts' value for each spread preference. */
  values: string[];
  heap: Heap<Candidate>;
}

/** Everything the filters read from a task: equal keys, equal fit. */
function demandKey(d: TaskDemand): string {
  return JSON.stringify([
    d.serviceId,
    d.constraints,
    d.reservations,
    d.ports,
    d.spread,
    d.maxReplicasPerNode ?? 0,
  ]);
}

function groupOf(state: State, demand: TaskDemand): DemandGroup {
  const key = demandKey(demand);
  const existing = state.groups.get(key);
  if (existing) return existing;
  const group: DemandGroup = { demand, excluded: new Map(), buckets: [], bucketOf: new Map() };
  const byValues = new Map<string, Bucket>();
  for (const host of state.hosts) {
    const misfit = staticMisfit(host, demand);
    if (misfit) {
      group.excluded.set(misfit, (group.excluded.get(misfit) ?? 0) + 1);
      continue;
    }
    const values = demand.spread.map((field) => hostField(host, field) ?? "");
    const id = JSON.stringify(values);
    let bucket = byValues.get(id);
    if (!bucket) {
      bucket = {
        values,
        heap: new Heap<Candidate>((a, b) => lessThan(a.key, b.key, a.host.index, b.host.index)),
      };
      byValues.set(id, bucket);
      group.buckets.push(bucket);
    }
    group.bucketOf.set(host.id, bucket);
    bucket.heap.push(candidate(state, group, host));
  }
  state.groups.set(key, group);
  return group;
}

function candidate(state: State, group: DemandGroup, host: IndexedHost): Candidate {
  return {
    host,
    key: hostScore(state.strategy, host, state.loads.get(host.id)!, group.demand),
    version: state.versions.get(host.id) ?? 0,
  };
}

/** A host's load changed: every group that may still use it gets a fresh entry. */
function requeue(state: State, host: IndexedHost): void {
  state.versions.set(host.id, (state.versions.get(host.id) ?? 0) + 1);
  for (const group of state.groups.values()) {
    group.bucketOf.get(host.id)?.heap.push(candidate(state, group, host));
  }
}

function pick(state: State, group: DemandGroup, counts: Map<string, number>[]): IndexedHost | undefined {
  for (const bucket of bucketsInOrder(group.buckets, counts)) {
    for (let top = bucket.heap.pop(); top; top = bucket.heap.pop()) {
      if (top.version !== (state.versions.get(top.host.id) ?? 0)) continue;
      if (!group.bucketOf.has(top.host.id)) continue;
      const misfit = dynamicMisfit(top.host, state.loads.get(top.host.id)!, group.demand);
      if (!misfit) return top.host;
      group.excluded.set(misfit, (group.excluded.get(misfit) ?? 0) + 1);
      group.bucketOf.delete(top.host.id);
    }
  }
  return undefined;
}

/** Spread preferences first: the buckets whose label groups run fewest of the service's tasks. */
function bucketsInOrder(buckets: Bucket[], counts: Map<string, number>[]): Bucket[] {
  if (buckets.length <= 1) return buckets;
  const keyed = buckets.map((b) => ({ b, key: b.values.map((v, i) => counts[i]!.get(v) ?? 0) }));
  keyed.sort((x, y) => (lessThan(x.key, y.key, 0, 0) ? -1 : lessThan(y.key, x.key, 0, 0) ? 1 : 0));
  return keyed.map((k) => k.b);
}

function spreadCountsOf(state: State, demand: TaskDemand): Map<string, number>[] {
  let counts = state.spreadCounts.get(demand.serviceId);
  if (!counts || counts.length !== demand.spread.length) {
    counts = demand.spread.map((field) => {
      const perValue = new Map<string, number>();
      for (const host of state.hosts) {
        const n = state.loads.get(host.id)?.byService.get(demand.serviceId) ?? 0;
        if (n > 0)
          perValue.set(hostField(host, field) ?? "", (perValue.get(hostField(host, field) ?? "") ?? 0) + n);
      }
      return perValue;
    });
    state.spreadCounts.set(demand.serviceId, counts);
  }
  return counts;
}

/**
 * Lower is better. Spread: fewest tasks of the service, then fewest tasks,
 * then the emptiest. Binpack: the fullest, then the most tasks.
 */
function hostScore(strategy: Strategy, host: SchedulerHost, load: HostLoad, demand: TaskDemand): number[] {
  const cpu = host.capacity.cpus > 0 ? load.cpus / host.capacity.cpus : 0;
  const memory = host.capacity.memoryBytes > 0 ? load.memoryBytes / host.capacity.memoryBytes : 0;
  const fullness = Math.max(cpu, memory);
  if (strategy === "binpack") return [-fullness, -load.tasks];
  return [load.byService.get(demand.serviceId) ?? 0, load.tasks, fullness];
}

/** Lexicographic order on scores, then the host's position (its id order). */
function lessThan(a: number[], b: number[], ai: number, bi: number): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]!;
  }
  return ai < bi;
}

function explain(excluded: Map<string, number>, hostCount: number): string {
  if (hostCount === 0) return "no hosts have joined";
  const parts = [...excluded.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([why, n]) => `${n} ${n === 1 ? "host" : "hosts"}: ${why}`);
  return `no host can run it (${parts.join("; ")})`;
}
