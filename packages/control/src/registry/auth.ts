import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { type Db, type Role, schema } from "@berth/db";
import type { RegistryAction } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { eq } from "drizzle-orm";
import { authenticateBasic, type Principal, resolveApiToken } from "../sessions.ts";

const SECRET_KEY = "registry-token-key";
export const REGISTRY_TOKEN_TTL_S = 15 * 60;

/** The key that signs registry tokens, shared by every replica through Postgres. */
export async function registryTokenKey(db: Db): Promise<Buffer> {
  await db
    .insert(schema.settings)
    .values({ key: SECRET_KEY, value: randomBytes(32).toString("base64url") })
    .onConflictDoNothing();
  const [row] = await db
    .select({ value: schema.settings.value })
    .from(schema.settings)
    .where(eq(schema.settings.key, SECRET_KEY));
  return Buffer.from(row!.value, "base64url");
}

interface TokenClaims {
  sub: string;
  name: string;
  role: Role;
  exp: number;
}

/** A short-lived bearer token for the registry (the Docker token flow): claims, then an HMAC. */
export function issueRegistryToken(key: Buffer, principal: Principal, now = Date.now()): string {
  const claims: TokenClaims = {
    sub: principal.userId,
    name: principal.username,
    role: principal.role,
    exp: Math.floor(now / 1000) + REGISTRY_TOKEN_TTL_S,
  };
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `brt.${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}

function verifyRegistryToken(key: Buffer, token: string, now = Date.now()): Principal | null {
  const [prefix, body, mac] = token.split(".");
  if (prefix !== "brt" || !body || !mac) return null;
  const expected = createHmac("sha256", key).update(body).digest();
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TokenClaims;
  if (claims.exp * 1000 < now) return null;
  return { userId: claims.sub, username: claims.name, role: claims.role, via: "token" };
}

// Basic credentials are checked with argon2id, too slow to repeat for every
// layer of a push: a success is remembered for a minute, by the header's hash.
const basicCache = new Map<string, { principal: Principal; until: number }>();

/** Who an Authorization header says the caller is: Basic (password or API token) or Bearer; null if none. */
export async function registryPrincipal(
  db: Db,
  key: Buffer,
  header: string | undefined,
): Promise<Principal | null> {
  if (!header) return null;
  const [scheme, value = ""] = header.split(" ", 2);
  if (scheme?.toLowerCase() === "bearer") {
    const principal = value.startsWith("brt.")
      ? verifyRegistryToken(key, value)
      : await resolveApiToken(db, value);
    if (!principal)
      throw new BerthError("Unauthenticated", "the token is not valid or has expired: log in again");
    return principal;
  }
  if (scheme?.toLowerCase() !== "basic")
    throw new BerthError("Unauthenticated", "use Basic or Bearer authentication");
  const cacheKey = createHash("sha256").update(header).digest("hex");
  const hit = basicCache.get(cacheKey);
  if (hit && hit.until > Date.now()) return hit.principal;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw new BerthError("Unauthenticated", "malformed Basic credentials");
  const principal = await authenticateBasic(db, decoded.slice(0, colon), decoded.slice(colon + 1));
  if (basicCache.size > 1000) basicCache.clear();
  basicCache.set(cacheKey, { principal, until: Date.now() + 60_000 });
  return principal;
}

/**
 * Rights on the registry, by the caller's role in the team: everyone may
 * pull; operators and up may push; admins and owners may delete.
 */
export function registryAllows(role: Role, action: RegistryAction): boolean {
  switch (action) {
    case "pull":
    case "catalog":
      return true;
    case "push":
      return role === "owner" || role === "admin" || role === "operator";
    case "delete":
      return role === "owner" || role === "admin";
  }
}
