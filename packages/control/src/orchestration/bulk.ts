import { type Db, schema, type Tx } from "@berth/db";
import { sql } from "drizzle-orm";

/**
 * Bulk writes as one statement over arrays (`unnest`): ten thousand rows are
 * ten parameters, not a hundred thousand, which is what keeps a deploy of
 * 10,000 replicas fast.
 */
export interface EventRow {
  kind: string;
  subjectType: string;
  subjectId: string;
  message: string;
  data?: Record<string, unknown>;
}

export async function insertEvents(db: Db | Tx, events: EventRow[]): Promise<void> {
  if (events.length === 0) return;
  await db.execute(sql`
    insert into events (kind, subject_type, subject_id, message, data)
    select * from unnest(
      ${sql.param(events.map((e) => e.kind))}::text[],
      ${sql.param(events.map((e) => e.subjectType))}::text[],
      ${sql.param(events.map((e) => e.subjectId))}::text[],
      ${sql.param(events.map((e) => e.message))}::text[],
      ${sql.param(events.map((e) => JSON.stringify(e.data ?? {})))}::jsonb[])`);
}

export interface NewTask {
  id: string;
  serviceId: string;
  slot: number;
  generation: number;
  digest: string;
  hostId: string | null;
  observed: "pending" | "assigned";
  reason: string;
}

export async function insertTasks(db: Db | Tx, tasks: NewTask[]): Promise<void> {
  if (tasks.length === 0) return;
  await db.execute(sql`
    insert into tasks (id, service_id, slot, generation, digest, host_id, observed, reason)
    select * from unnest(
      ${sql.param(tasks.map((t) => t.id))}::text[],
      ${sql.param(tasks.map((t) => t.serviceId))}::text[],
      ${sql.param(tasks.map((t) => t.slot))}::int[],
      ${sql.param(tasks.map((t) => t.generation))}::int[],
      ${sql.param(tasks.map((t) => t.digest))}::text[],
      ${sql.param(tasks.map((t) => t.hostId))}::text[],
      ${sql.param(tasks.map((t) => t.observed))}::text[],
      ${sql.param(tasks.map((t) => t.reason))}::text[])`);
}

/** Store a task template once per digest. */
export async function saveTemplate(db: Db | Tx, digest: string, spec: schema.StoredSpec): Promise<void> {
  await db.insert(schema.taskTemplates).values({ digest, spec }).onConflictDoNothing();
}
