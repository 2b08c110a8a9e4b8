import { type Db, schema, type Tx } from "@berth/db";
import { and, asc, desc, eq, gt, gte, inArray } from "drizzle-orm";

export interface EventInput {
  kind: string;
  subjectType: string;
  subjectId: string;
  message: string;
  data?: Record<string, unknown>;
}

export async function recordEvent(db: Db | Tx, event: EventInput): Promise<void> {
  await db.insert(schema.events).values({ ...event, data: event.data ?? {} });
}

export interface EventFilter {
  subjectType?: string;
  subjectId?: string;
  /** Any of these subject types (host, stack, service, task, registry). */
  subjectTypes?: string[];
  /** Only events with a larger id: a cursor for following the log. */
  afterId?: number;
  /** Only events at or after this time. */
  since?: Date;
  limit?: number;
  /** Newest first (default), or oldest first — what a follower reads after a cursor. */
  order?: "desc" | "asc";
}

export async function listEvents(db: Db, filter: EventFilter = {}) {
  const e = schema.events;
  const where = [];
  if (filter.subjectType) where.push(eq(e.subjectType, filter.subjectType));
  if (filter.subjectId) where.push(eq(e.subjectId, filter.subjectId));
  if (filter.subjectTypes) where.push(inArray(e.subjectType, filter.subjectTypes));
  if (filter.afterId !== undefined) where.push(gt(e.id, filter.afterId));
  if (filter.since) where.push(gte(e.at, filter.since));
  return db
    .select()
    .from(e)
    .where(where.length ? and(...where) : undefined)
    .orderBy(filter.order === "asc" ? asc(e.id) : desc(e.id))
    .limit(Math.min(filter.limit ?? 50, 500));
}

export interface Actor {
  userId: string | null;
  name: string;
}

export const SYSTEM_ACTOR: Actor = { userId: null, name: "system" };

/** One audit entry per change a user or token makes. */
export async function recordAudit(
  db: Db | Tx,
  actor: Actor,
  entry: { action: string; targetType: string; targetId: string; data?: Record<string, unknown> },
): Promise<void> {
  await db.insert(schema.auditEntries).values({
    actorId: actor.userId,
    actorName: actor.name,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    data: entry.data ?? {},
  });
}

export async function listAudit(db: Db, limit = 100) {
  return db
    .select()
    .from(schema.auditEntries)
    .orderBy(desc(schema.auditEntries.id))
    .limit(Math.min(limit, 500));
}
