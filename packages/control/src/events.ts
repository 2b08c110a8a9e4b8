import { type Db, schema, type Tx } from "@berth/db";
import { and, desc, eq } from "drizzle-orm";

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

export async function listEvents(
  db: Db,
  filter: { subjectType?: string; subjectId?: string; limit?: number } = {},
) {
  const where = [];
  if (filter.subjectType) where.push(eq(schema.events.subjectType, filter.subjectType));
  if (filter.subjectId) where.push(eq(schema.events.subjectId, filter.subjectId));
  return db
    .select()
    .from(schema.events)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(schema.events.id))
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
