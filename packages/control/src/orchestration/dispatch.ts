import { type Db, schema } from "@berth/db";
import type { DesiredTask, Tasks } from "@berth/protocol";
import { and, eq, inArray, notInArray } from "drizzle-orm";
import type { Logger } from "pino";
import { ENDED } from "../orchestrator/types.ts";
import { serviceSpecOf } from "../stacks/apply.ts";
import { taskName, toTaskSpec } from "../stacks/convert.ts";

/** Each host's task-set version (0 for a host that never had one). */
async function versionsOf(db: Db, hostIds: string[]): Promise<Map<string, number>> {
  const rows = await db
    .select({ hostId: schema.hostTaskSets.hostId, version: schema.hostTaskSets.version })
    .from(schema.hostTaskSets)
    .where(inArray(schema.hostTaskSets.hostId, hostIds));
  return new Map(rows.map((v) => [v.hostId, v.version]));
}

/** The complete set of tasks a host should run now, with its version (read here unless given). */
export async function taskSetsFor(
  db: Db,
  hostIds: string[],
  known?: Map<string, number>,
): Promise<Map<string, Tasks>> {
  const sets = new Map<string, Tasks>();
  if (hostIds.length === 0) return sets;
  const versions = known ?? (await versionsOf(db, hostIds));
  for (const id of hostIds) sets.set(id, { type: "tasks", version: versions.get(id) ?? 0, tasks: [] });
  const t = schema.tasks;
  const rows = await db
    .select({
      id: t.id,
      hostId: t.hostId,
      slot: t.slot,
      spec: schema.taskTemplates.spec,
      service: schema.services.name,
      stack: schema.stacks.name,
    })
    .from(t)
    .innerJoin(schema.taskTemplates, eq(schema.taskTemplates.digest, t.digest))
    .innerJoin(schema.services, eq(schema.services.id, t.serviceId))
    .innerJoin(schema.stacks, eq(schema.stacks.id, schema.services.stackId))
    .where(and(inArray(t.hostId, hostIds), eq(t.desired, "running"), notInArray(t.observed, [...ENDED])));
  for (const r of rows) {
    const task: DesiredTask = {
      taskId: r.id,
      name: taskName(r.stack, r.service, r.slot, r.id),
      stack: r.stack,
      service: r.service,
      slot: r.slot,
      spec: toTaskSpec(r.stack, serviceSpecOf(r.spec)),
    };
    sets.get(r.hostId!)!.tasks.push(task);
  }
  return sets;
}

export interface Dispatcher {
  /** Send every connected host whose task set changed since it was last sent (or all of `force`). */
  sync(force?: string[]): Promise<void>;
  /** A host disconnected: forget what it was sent. */
  forget(hostId: string): void;
}

/**
 * Level-triggered dispatch: each connected host gets its complete task set
 * whenever its version moves, and again on every connect; an agent ignores a
 * version it already holds, so a repeat costs nothing and a missed one is
 * healed by the next. Runs in every control-plane replica (agents connect
 * to any of them).
 */
export function createDispatcher(deps: {
  db: Db;
  log: Logger;
  connectedHosts(): string[];
  send(hostId: string, message: Tasks): boolean;
}): Dispatcher {
  const log = deps.log.child({ component: "dispatcher" });
  const sent = new Map<string, number>();
  let running: Promise<void> | null = null;
  let again = false;
  const forced = new Set<string>();

  async function once(): Promise<void> {
    const connected = deps.connectedHosts();
    if (connected.length === 0) return;
    const force = new Set(forced);
    forced.clear();
    const current = await versionsOf(deps.db, connected);
    const due = connected.filter((id) => force.has(id) || sent.get(id) !== (current.get(id) ?? 0));
    if (due.length === 0) return;
    const sets = await taskSetsFor(deps.db, due, current);
    for (const [hostId, set] of sets) {
      if (deps.send(hostId, set)) sent.set(hostId, set.version);
    }
    log.debug({ hosts: due.length }, "task sets sent");
  }

  return {
    sync(force = []) {
      for (const id of force) forced.add(id);
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          try {
            await once();
          } catch (err) {
            log.error({ err }, "dispatching task sets failed");
          }
        } while (again);
      })().finally(() => {
        running = null;
      });
      return running;
    },
    forget(hostId) {
      sent.delete(hostId);
    },
  };
}
