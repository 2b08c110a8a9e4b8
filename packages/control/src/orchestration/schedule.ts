import { type Db, schema } from "@berth/db";
import { and, eq, inArray, isNotNull, isNull, notInArray, sql } from "drizzle-orm";
import { ENDED } from "../orchestrator/types.ts";
import { place, type SchedulerHost, type Strategy } from "../scheduler/index.ts";
import { bumpHostTaskSets, serviceSpecOf } from "../stacks/apply.ts";
import { toDemand } from "../stacks/convert.ts";
import { insertEvents } from "./bulk.ts";

const UNAME_ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64", arm: "armv7l", ia32: "i686" };

export async function loadSchedulerHosts(db: Db): Promise<SchedulerHost[]> {
  const h = schema.hosts;
  const rows = await db
    .select({
      id: h.id,
      name: h.name,
      state: h.state,
      availability: h.availability,
      labels: h.labels,
      facts: h.facts,
      cpus: h.cpus,
      memoryBytes: h.memoryBytes,
    })
    .from(h);
  return rows.map((r) => ({
    id: r.id,
    hostname: r.name,
    // A drained host that is up is `draining` to the scheduler and orchestrator: its tasks move away.
    state: r.state === "ready" && r.availability === "drain" ? "draining" : r.state,
    labels: r.labels,
    // As Docker's node.platform.*: the kernel's name and `uname -m`, not the distribution or Node's names.
    os: "linux",
    arch: UNAME_ARCH[r.facts.arch] ?? r.facts.arch,
    capacity: { cpus: r.cpus, memoryBytes: r.memoryBytes },
  }));
}

export interface SchedulePassResult {
  assigned: number;
  unplaced: number;
  /** Waiting tasks whose reason this pass wrote (a new task's first, or a changed one). */
  reasonsChanged: number;
  hosts: string[];
}

/**
 * One scheduler pass: every task waiting for a host is placed by the pure
 * scheduler over a snapshot of hosts and placed tasks, and the assignments
 * are written in one statement that only takes tasks still unassigned and
 * wanted (optimistic: whatever changed meanwhile is left for the next pass).
 */
export async function schedulePass(db: Db, strategy: Strategy = "spread"): Promise<SchedulePassResult> {
  const t = schema.tasks;
  const pendingRows = await db
    .select({ id: t.id, serviceId: t.serviceId, digest: t.digest, reason: t.reason })
    .from(t)
    .where(and(eq(t.desired, "running"), isNull(t.hostId)))
    .orderBy(t.createdAt, t.slot);
  if (pendingRows.length === 0) return { assigned: 0, unplaced: 0, reasonsChanged: 0, hosts: [] };
  const [hosts, placedRows] = await Promise.all([
    loadSchedulerHosts(db),
    db
      .select({ id: t.id, serviceId: t.serviceId, hostId: t.hostId, digest: t.digest })
      .from(t)
      .where(and(eq(t.desired, "running"), isNotNull(t.hostId), notInArray(t.observed, [...ENDED]))),
  ]);
  const demands = await demandsOf(db, [...pendingRows, ...placedRows]);
  const demand = (r: { serviceId: string; digest: string }) => demands.get(`${r.serviceId} ${r.digest}`)!;
  const placed = placedRows.map((r) => ({ ...demand(r), id: r.id, hostId: r.hostId! }));
  const pending = pendingRows.map((r) => ({ ...demand(r), id: r.id }));
  const plan = place({ hosts, placed }, pending, strategy);

  let taken: { id: string; hostId: string | null }[] = [];
  if (plan.assignments.length > 0) {
    const result = await db.execute<{ id: string; host_id: string }>(sql`
      update tasks set host_id = v.host_id, observed = 'assigned', reason = null,
        version = tasks.version + 1, updated_at = now()
      from (select unnest(${sql.param(plan.assignments.map((a) => a.taskId))}::text[]) as id,
                   unnest(${sql.param(plan.assignments.map((a) => a.hostId))}::text[]) as host_id) v
      where tasks.id = v.id and tasks.host_id is null and tasks.desired = 'running'
      returning tasks.id, tasks.host_id`);
    taken = result.rows.map((r) => ({ id: r.id, hostId: r.host_id }));
    const names = new Map(hosts.map((h) => [h.id, h.hostname]));
    if (taken.length > 0) {
      await insertEvents(
        db,
        taken.map((r) => ({
          kind: "task.assigned",
          subjectType: "task",
          subjectId: r.id,
          message: `assigned to ${names.get(r.hostId!) ?? r.hostId}`,
          data: { hostId: r.hostId },
        })),
      );
    }
  }
  // Say why a task waits, once per new reason (not on every pass).
  const reasons = new Map(pendingRows.map((r) => [r.id, r.reason]));
  const changed = plan.unplaced.filter((u) => reasons.get(u.taskId) !== u.reason);
  if (changed.length > 0) {
    await db.execute(sql`
      update tasks set reason = v.reason, updated_at = now()
      from (select unnest(${sql.param(changed.map((u) => u.taskId))}::text[]) as id,
                   unnest(${sql.param(changed.map((u) => u.reason))}::text[]) as reason) v
      where tasks.id = v.id and tasks.host_id is null`);
    await db.insert(schema.events).values(
      changed.map((u) => ({
        kind: "task.unplaced",
        subjectType: "task",
        subjectId: u.taskId,
        message: u.reason,
        data: {},
      })),
    );
  }
  const hostIds = [...new Set(taken.map((r) => r.hostId!))];
  await bumpHostTaskSets(db, hostIds);
  return {
    assigned: taken.length,
    unplaced: plan.unplaced.length,
    reasonsChanged: changed.length,
    hosts: hostIds,
  };
}

/** Tasks on these hosts that have not ended become lost: their host went down. */
export async function markTasksLost(db: Db, hostIds: string[]): Promise<number> {
  if (hostIds.length === 0) return 0;
  const t = schema.tasks;
  const lost = await db
    .update(t)
    .set({
      observed: "lost",
      reason: "host down",
      finishedAt: new Date(),
      version: sql`${t.version} + 1`,
      updatedAt: new Date(),
    })
    .where(and(inArray(t.hostId, hostIds), notInArray(t.observed, [...ENDED])))
    .returning({ id: t.id });
  if (lost.length > 0) {
    await db.insert(schema.events).values(
      lost.map((r) => ({
        kind: "task.lost",
        subjectType: "task",
        subjectId: r.id,
        message: "its host is down",
        data: {},
      })),
    );
  }
  return lost.length;
}

/** What each (service, template) asks of a host, reading each distinct template once. */
async function demandsOf(
  db: Db,
  rows: { serviceId: string; digest: string }[],
): Promise<Map<string, ReturnType<typeof toDemand>>> {
  const digests = [...new Set(rows.map((r) => r.digest))];
  const templates = digests.length
    ? await db
        .select({ digest: schema.taskTemplates.digest, spec: schema.taskTemplates.spec })
        .from(schema.taskTemplates)
        .where(inArray(schema.taskTemplates.digest, digests))
    : [];
  const specs = new Map(templates.map((t) => [t.digest, serviceSpecOf(t.spec)]));
  const out = new Map<string, ReturnType<typeof toDemand>>();
  for (const r of rows) {
    const key = `${r.serviceId} ${r.digest}`;
    if (!out.has(key)) out.set(key, toDemand(r.serviceId, specs.get(r.digest)!));
  }
  return out;
}
