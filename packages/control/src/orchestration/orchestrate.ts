import { type Db, newId, schema, type Tx } from "@berth/db";
import type { ServiceSpec } from "@berth/spec";
import { templateDigest } from "@berth/spec";
import { and, eq, inArray, sql } from "drizzle-orm";
import { reconcileService } from "../orchestrator/reconcile.ts";
import type { Decision, ServiceView, TaskView } from "../orchestrator/types.ts";
import { satisfies } from "../scheduler/filter.ts";
import type { SchedulerHost } from "../scheduler/index.ts";
import { bumpHostTaskSets, serviceSpecOf } from "../stacks/apply.ts";
import { type EventRow, insertEvents, insertTasks, type NewTask, saveTemplate } from "./bulk.ts";
import { loadSchedulerHosts, markTasksLost } from "./schedule.ts";

/** Ended tasks kept per slot for `service ps -a`, restart counting and the dashboard. */
const ENDED_KEPT_PER_SLOT = 5;

export interface PassResult {
  /** Whether anything was written. */
  changed: boolean;
  /** Hosts whose task sets changed. */
  hosts: string[];
  /** The earliest time a service asked to be looked at again. */
  wakeAt?: number;
}

/**
 * One orchestrator pass: every service's decision (reconcileService) written
 * in its own transaction, guarded by the service's generation so a deploy
 * that lands meanwhile wins and the service is simply looked at again.
 */
export async function orchestratePass(db: Db, now = Date.now()): Promise<PassResult> {
  const services = await db
    .select({ service: schema.services, stack: schema.stacks.name })
    .from(schema.services)
    .innerJoin(schema.stacks, eq(schema.stacks.id, schema.services.stackId));
  if (services.length === 0) return { changed: false, hosts: [] };
  const hosts = await loadSchedulerHosts(db);
  // Normally the node monitor does this when a host goes down; this covers a leader that died first.
  await markTasksLost(
    db,
    hosts.filter((h) => h.state === "down").map((h) => h.id),
  );
  const t = schema.tasks;
  const rows = await db
    .select({
      id: t.id,
      serviceId: t.serviceId,
      slot: t.slot,
      digest: t.digest,
      hostId: t.hostId,
      desired: t.desired,
      observed: t.observed,
      exitCode: t.exitCode,
      createdAt: t.createdAt,
      startedAt: t.startedAt,
      finishedAt: t.finishedAt,
    })
    .from(t);
  const draining = new Set(hosts.filter((h) => h.state === "draining").map((h) => h.id));
  const byService = new Map<string, TaskView[]>();
  for (const r of rows) {
    const view: TaskView = {
      id: r.id,
      slot: r.slot,
      digest: r.digest,
      desired: r.desired,
      observed: r.observed,
      createdAt: r.createdAt.getTime(),
      ...(r.hostId ? { hostId: r.hostId } : {}),
      ...(r.exitCode !== null ? { exitCode: r.exitCode } : {}),
      ...(r.startedAt ? { startedAt: r.startedAt.getTime() } : {}),
      ...(r.finishedAt ? { finishedAt: r.finishedAt.getTime() } : {}),
    };
    const list = byService.get(r.serviceId);
    if (list) list.push(view);
    else byService.set(r.serviceId, [view]);
  }

  const result: PassResult = { changed: false, hosts: [] };
  for (const { service, stack } of services) {
    const spec = serviceSpecOf(service.spec);
    const view: ServiceView = {
      id: service.id,
      name: service.name,
      spec,
      generation: service.generation,
      digest: service.digest,
      updateState: service.updateState,
      ...(service.previousSpec ? { previousSpec: serviceSpecOf(service.previousSpec) } : {}),
      ...(service.updateStartedAt ? { updateStartedAt: service.updateStartedAt.getTime() } : {}),
    };
    const tasks = byService.get(service.id) ?? [];
    // Tasks on a draining host are stopped, then replaced elsewhere.
    const drained = tasks.filter(
      (task) => task.desired === "running" && task.hostId && draining.has(task.hostId),
    );
    const seen = tasks.map((task) =>
      drained.includes(task) ? { ...task, desired: "shutdown" as const } : task,
    );
    const decision = reconcileService(view, seen, now, { globalHosts: eligibleHosts(hosts, spec) });
    decision.shutdown.unshift(...drained.map((task) => ({ taskId: task.id, reason: "host draining" })));
    if (decision.wakeAt && (result.wakeAt === undefined || decision.wakeAt < result.wakeAt)) {
      result.wakeAt = decision.wakeAt;
    }
    if (!hasWork(decision)) continue;
    const written = await applyDecision(db, { ...service, stack }, decision);
    if (written) {
      result.changed = true;
      result.hosts.push(...written.hosts);
    }
  }
  return result;
}

function hasWork(d: Decision): boolean {
  return d.create.length > 0 || d.shutdown.length > 0 || d.update !== undefined || d.rollback !== undefined;
}

function eligibleHosts(hosts: SchedulerHost[], spec: ServiceSpec): string[] {
  if (spec.deploy.mode !== "global") return [];
  return hosts
    .filter((h) => h.state === "ready" && spec.deploy.placement.constraints.every((c) => satisfies(h, c)))
    .map((h) => h.id);
}

type ServiceRow = typeof schema.services.$inferSelect & { stack: string };

async function applyDecision(db: Db, service: ServiceRow, d: Decision): Promise<{ hosts: string[] } | null> {
  return db.transaction(async (tx) => {
    const [locked] = await tx
      .select({ generation: schema.services.generation })
      .from(schema.services)
      .where(eq(schema.services.id, service.id))
      .for("update");
    if (!locked || locked.generation !== service.generation) return null;
    const hosts: string[] = [];
    const events: EventRow[] = [];
    const name = `${service.stack}_${service.name}`;

    if (d.shutdown.length > 0) {
      const reasons = new Map(d.shutdown.map((s) => [s.taskId, s.reason]));
      const t = schema.tasks;
      const stopped = await tx
        .update(t)
        .set({
          desired: "shutdown",
          reason: sql`(${sql.param(JSON.stringify(Object.fromEntries(reasons)))}::jsonb ->> ${t.id})`,
          // A task no host has taken yet has nothing to stop.
          observed: sql`case when ${t.hostId} is null then 'shutdown' else ${t.observed} end`,
          finishedAt: sql`case when ${t.hostId} is null then now() else ${t.finishedAt} end`,
          version: sql`${t.version} + 1`,
          updatedAt: new Date(),
        })
        .where(and(inArray(t.id, [...reasons.keys()]), eq(t.desired, "running")))
        .returning({ id: t.id, hostId: t.hostId, slot: t.slot });
      for (const s of stopped) {
        if (s.hostId) hosts.push(s.hostId);
        events.push(taskEvent("task.shutdown", s.id, `${name}.${s.slot}: ${reasons.get(s.id)}`));
      }
    }

    let spec = service.spec;
    let digest = service.digest;
    let generation = service.generation;
    if (d.rollback && service.previousSpec) {
      spec = service.previousSpec;
      digest = templateDigest(serviceSpecOf(spec));
      generation += 1;
      await tx
        .update(schema.services)
        .set({
          spec,
          previousSpec: service.spec,
          digest,
          generation,
          updateState: "rolling_back",
          updateStartedAt: new Date(),
          updateMessage: d.rollback.reason,
          updatedAt: new Date(),
        })
        .where(eq(schema.services.id, service.id));
      events.push(serviceEvent("service.rollback", service.id, `${name}: ${d.rollback.reason}`));
    } else if (d.update) {
      await tx
        .update(schema.services)
        .set({
          updateState: d.update.state,
          updateMessage: d.update.message,
          ...(d.update.state === "updating" ? { updateStartedAt: new Date() } : {}),
          updatedAt: new Date(),
        })
        .where(eq(schema.services.id, service.id));
      events.push(serviceEvent(`service.${d.update.state}`, service.id, `${name}: ${d.update.message}`));
    }

    if (d.create.length > 0 && !d.rollback) {
      const created: NewTask[] = d.create.map((c) => ({
        id: newId("tsk"),
        serviceId: service.id,
        slot: c.slot,
        generation,
        digest,
        hostId: c.hostId ?? null,
        observed: c.hostId ? "assigned" : "pending",
        reason: c.reason,
      }));
      await saveTemplate(tx, digest, spec);
      await insertTasks(tx, created);
      for (const c of created) {
        if (c.hostId) hosts.push(c.hostId);
        events.push(taskEvent("task.created", c.id, `${name}.${c.slot}: ${c.reason}`));
      }
    }
    await pruneEndedTasks(tx, service.id);
    await insertEvents(tx, events);
    await bumpHostTaskSets(tx, hosts);
    return { hosts };
  });
}

function taskEvent(kind: string, id: string, message: string): EventRow {
  return { kind, subjectType: "task", subjectId: id, message };
}

function serviceEvent(kind: string, id: string, message: string): EventRow {
  return { kind, subjectType: "service", subjectId: id, message };
}

/** Keep the newest few ended tasks per slot; older ones only make every pass slower. */
async function pruneEndedTasks(tx: Tx, serviceId: string): Promise<void> {
  await tx.execute(sql`
    delete from tasks where id in (
      select id from (
        select id, row_number() over (partition by slot, host_id order by created_at desc) as n
        from tasks
        where service_id = ${serviceId} and desired = 'shutdown'
          and observed in ('exited', 'failed', 'lost', 'shutdown')
      ) ended where ended.n > ${ENDED_KEPT_PER_SLOT}
    )`);
}
