import { portKey } from "./filter.ts";
import type { PlacedTask, TaskDemand } from "./types.ts";

/** What is already asked of a host: reserved resources, bound ports, tasks per service. */
export interface HostLoad {
  cpus: number;
  memoryBytes: number;
  tasks: number;
  byService: Map<string, number>;
  ports: Map<string, (string | undefined)[]>;
}

export function emptyLoad(): HostLoad {
  return { cpus: 0, memoryBytes: 0, tasks: 0, byService: new Map(), ports: new Map() };
}

export function addToLoad(load: HostLoad, demand: TaskDemand): void {
  load.cpus += demand.reservations.cpus ?? 0;
  load.memoryBytes += demand.reservations.memoryBytes ?? 0;
  load.tasks += 1;
  load.byService.set(demand.serviceId, (load.byService.get(demand.serviceId) ?? 0) + 1);
  for (const p of demand.ports) {
    const key = portKey(p);
    load.ports.set(key, [...(load.ports.get(key) ?? []), p.hostIp]);
  }
}

export function loadsOf(hostIds: Iterable<string>, placed: PlacedTask[]): Map<string, HostLoad> {
  const loads = new Map<string, HostLoad>();
  for (const id of hostIds) loads.set(id, emptyLoad());
  for (const task of placed) {
    const load = loads.get(task.hostId);
    if (load) addToLoad(load, task);
  }
  return loads;
}
