import { type Db, hashSecret, newId, newSecret, type Role, schema } from "@berth/db";
import { BerthError } from "@berth/protocol";
import { and, desc, eq, gt, isNull, or } from "drizzle-orm";
import { type Actor, recordAudit } from "./events.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import { fleetRole } from "./teams.ts";

export const SESSION_TTL_MS = 7 * 24 * 3600_000;
export const API_TOKEN_PREFIX = "bat";
const SESSION_PREFIX = "bss";

/** Who is making a request, as every authorisation check sees it. */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  /** `host`: an agent with its host credential (the registry lets hosts pull, nothing else). */
  via: "session" | "token" | "host";
}

export function actorOf(p: Principal): Actor {
  return { userId: p.userId, name: p.username };
}

// A fixed hash to verify against when the user does not exist, so the time
// taken does not reveal which usernames exist.
let dummyHash: Promise<string> | null = null;

async function checkCredentials(db: Db, username: string, password: string) {
  const [row] = await db
    .select({
      userId: schema.users.id,
      username: schema.users.username,
      disabledAt: schema.users.disabledAt,
      passwordHash: schema.userPasswords.passwordHash,
    })
    .from(schema.users)
    .innerJoin(schema.userPasswords, eq(schema.userPasswords.userId, schema.users.id))
    .where(eq(schema.users.username, username));
  dummyHash ??= hashPassword("not-a-real-password");
  const ok = await verifyPassword(row?.passwordHash ?? (await dummyHash), password);
  if (!row || !ok || row.disabledAt) {
    throw new BerthError("Unauthenticated", "wrong username or password");
  }
  return row;
}

/** Log in with a password; returns the session cookie value (only its hash is stored). */
export async function login(db: Db, username: string, password: string) {
  const user = await checkCredentials(db, username, password);
  const token = newSecret(SESSION_PREFIX);
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await db.insert(schema.sessions).values({ id: hashSecret(token), userId: user.userId, expiresAt });
  await recordAudit(
    db,
    { userId: user.userId, name: user.username },
    {
      action: "user.login",
      targetType: "user",
      targetId: user.userId,
    },
  );
  return { token, expiresAt, username: user.username };
}

export async function logout(db: Db, token: string): Promise<void> {
  await db.delete(schema.sessions).where(eq(schema.sessions.id, hashSecret(token)));
}

/**
 * The user's fleet-wide role is their role in the default team (every user
 * is created into it); a user outside it is a viewer fleet-wide. Roles in
 * other teams matter only for what those teams own (their registry namespace).
 */
async function principalFor(db: Db, userId: string, via: Principal["via"]): Promise<Principal | null> {
  const [row] = await db
    .select({
      username: schema.users.username,
      disabledAt: schema.users.disabledAt,
      role: fleetRole(schema.users.id),
    })
    .from(schema.users)
    .where(eq(schema.users.id, userId));
  if (!row || row.disabledAt) return null;
  return { userId, username: row.username, role: row.role ?? "viewer", via };
}

export async function resolveSession(db: Db, token: string): Promise<Principal | null> {
  const [s] = await db
    .select({ userId: schema.sessions.userId })
    .from(schema.sessions)
    .where(and(eq(schema.sessions.id, hashSecret(token)), gt(schema.sessions.expiresAt, new Date())));
  return s ? principalFor(db, s.userId, "session") : null;
}

/** Create an API token for the CLI or CI. The token is returned once; only its hash is kept. */
export async function createApiToken(
  db: Db,
  principal: Principal,
  input: { name: string; ttlMs?: number | null },
) {
  const token = newSecret(API_TOKEN_PREFIX);
  const id = newId("tok");
  const expiresAt = input.ttlMs ? new Date(Date.now() + input.ttlMs) : null;
  await db.transaction(async (tx) => {
    await tx.insert(schema.apiTokens).values({
      id,
      userId: principal.userId,
      name: input.name,
      prefix: token.slice(0, 10),
      tokenHash: hashSecret(token),
      expiresAt,
    });
    await recordAudit(tx, actorOf(principal), {
      action: "api-token.create",
      targetType: "api-token",
      targetId: id,
    });
  });
  return { id, token, expiresAt };
}

/** Log in with a password and get an API token in one step (what `berth login` does). */
export async function loginForToken(db: Db, username: string, password: string, name: string) {
  const user = await checkCredentials(db, username, password);
  const principal = await principalFor(db, user.userId, "token");
  if (!principal) throw new BerthError("Unauthenticated", "wrong username or password");
  return createApiToken(db, principal, { name });
}

export async function resolveApiToken(db: Db, token: string): Promise<Principal | null> {
  const t = schema.apiTokens;
  const now = new Date();
  const [row] = await db
    .update(t)
    .set({ lastUsedAt: now })
    .where(
      and(
        eq(t.tokenHash, hashSecret(token)),
        isNull(t.revokedAt),
        or(isNull(t.expiresAt), gt(t.expiresAt, now)),
      ),
    )
    .returning({ userId: t.userId });
  return row ? principalFor(db, row.userId, "token") : null;
}

export async function listApiTokens(db: Db, principal: Principal) {
  const t = schema.apiTokens;
  return db
    .select({
      id: t.id,
      name: t.name,
      prefix: t.prefix,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      lastUsedAt: t.lastUsedAt,
      revokedAt: t.revokedAt,
    })
    .from(t)
    .where(eq(t.userId, principal.userId))
    .orderBy(desc(t.createdAt));
}

/**
 * Revoke one of the caller's own API tokens, by id or by the token itself
 * (what `berth logout` does with the token it holds).
 */
export async function revokeApiToken(db: Db, principal: Principal, which: { id?: string; token?: string }) {
  const t = schema.apiTokens;
  const match = which.id ? eq(t.id, which.id) : which.token ? eq(t.tokenHash, hashSecret(which.token)) : null;
  if (!match) throw new BerthError("InvalidArgument", "name the token to revoke");
  await db.transaction(async (tx) => {
    const rows = await tx
      .update(t)
      .set({ revokedAt: new Date() })
      .where(and(match, eq(t.userId, principal.userId), isNull(t.revokedAt)))
      .returning({ id: t.id });
    const row = rows[0];
    if (!row) throw new BerthError("NotFound", "no such active API token of yours");
    await recordAudit(tx, actorOf(principal), {
      action: "api-token.revoke",
      targetType: "api-token",
      targetId: row.id,
    });
  });
}

/** A username and password (or one of the user's API tokens in place of the password) → who it is. */
export async function authenticateBasic(db: Db, username: string, secret: string): Promise<Principal> {
  if (secret.startsWith(`${API_TOKEN_PREFIX}_`)) {
    const principal = await resolveApiToken(db, secret);
    if (principal && principal.username === username) return principal;
    throw new BerthError("Unauthenticated", "wrong username or token");
  }
  const user = await checkCredentials(db, username, secret);
  const principal = await principalFor(db, user.userId, "token");
  if (!principal) throw new BerthError("Unauthenticated", "wrong username or password");
  return principal;
}
