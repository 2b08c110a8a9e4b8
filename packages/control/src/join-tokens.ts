import { type Db, hashSecret, newId, newSecret, schema, type Tx } from "@berth/db";
import { BerthError } from "@berth/protocol";
import { and, desc, eq, gt, isNull, lt, sql } from "drizzle-orm";
import { type Actor, recordAudit } from "./events.ts";

export const JOIN_TOKEN_PREFIX = "bjt";
const MAX_TTL_MS = 30 * 24 * 3600_000;

/** Columns safe to show: never the hash. */
const publicColumns = {
  id: schema.joinTokens.id,
  description: schema.joinTokens.description,
  maxUses: schema.joinTokens.maxUses,
  uses: schema.joinTokens.uses,
  createdAt: schema.joinTokens.createdAt,
  expiresAt: schema.joinTokens.expiresAt,
  revokedAt: schema.joinTokens.revokedAt,
  lastUsedAt: schema.joinTokens.lastUsedAt,
};

export async function createJoinToken(
  db: Db,
  actor: Actor,
  input: { description?: string; ttlMs?: number; maxUses?: number },
) {
  const ttlMs = input.ttlMs ?? 24 * 3600_000;
  if (ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
    throw new BerthError("InvalidArgument", "a join token lives between 1 second and 30 days");
  }
  const maxUses = input.maxUses ?? 1;
  if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 10_000) {
    throw new BerthError("InvalidArgument", "max uses must be a whole number from 1 to 10000");
  }
  const token = newSecret(JOIN_TOKEN_PREFIX);
  const id = newId("jt");
  const expiresAt = new Date(Date.now() + ttlMs);
  await db.transaction(async (tx) => {
    await tx.insert(schema.joinTokens).values({
      id,
      tokenHash: hashSecret(token),
      description: input.description ?? "",
      maxUses,
      createdBy: actor.userId,
      expiresAt,
    });
    await recordAudit(tx, actor, {
      action: "join-token.create",
      targetType: "join-token",
      targetId: id,
      data: { maxUses, expiresAt: expiresAt.toISOString() },
    });
  });
  return { id, token, expiresAt, maxUses };
}

export async function listJoinTokens(db: Db) {
  const rows = await db
    .select(publicColumns)
    .from(schema.joinTokens)
    .orderBy(desc(schema.joinTokens.createdAt));
  const now = Date.now();
  return rows.map((t) => ({ ...t, status: joinTokenStatus(t, now) }));
}

export type JoinTokenStatus = "active" | "expired" | "used" | "revoked";

export function joinTokenStatus(
  t: { revokedAt: Date | null; expiresAt: Date; uses: number; maxUses: number },
  now: number,
): JoinTokenStatus {
  if (t.revokedAt) return "revoked";
  if (t.uses >= t.maxUses) return "used";
  if (t.expiresAt.getTime() <= now) return "expired";
  return "active";
}

export async function revokeJoinToken(db: Db, actor: Actor, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const rows = await tx
      .update(schema.joinTokens)
      .set({ revokedAt: new Date() })
      .where(eq(schema.joinTokens.id, id))
      .returning({ id: schema.joinTokens.id });
    if (rows.length === 0) throw new BerthError("NotFound", `join token ${id} does not exist`);
    await recordAudit(tx, actor, { action: "join-token.revoke", targetType: "join-token", targetId: id });
  });
}

/**
 * Use one join token inside the caller's transaction. The conditional update
 * makes two agents racing for the last use of a token get exactly one success.
 */
export async function consumeJoinToken(tx: Tx, token: string): Promise<string> {
  const hash = hashSecret(token);
  const t = schema.joinTokens;
  const rows = await tx
    .update(t)
    .set({ uses: sql`${t.uses} + 1`, lastUsedAt: new Date() })
    .where(
      and(eq(t.tokenHash, hash), isNull(t.revokedAt), gt(t.expiresAt, sql`now()`), lt(t.uses, t.maxUses)),
    )
    .returning({ id: t.id });
  const used = rows[0];
  if (used) return used.id;
  const [found] = await tx
    .select(publicColumns)
    .from(schema.joinTokens)
    .where(eq(schema.joinTokens.tokenHash, hash));
  if (!found) throw new BerthError("PermissionDenied", "the join token is not valid");
  const status = joinTokenStatus(found, Date.now());
  throw new BerthError(
    "PermissionDenied",
    status === "used"
      ? "the join token has already been used; create a new one with `berth join-token create`"
      : `the join token is ${status}; create a new one with \`berth join-token create\``,
  );
}
