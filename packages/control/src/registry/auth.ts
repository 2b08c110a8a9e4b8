import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { type Db, type Role, schema } from "@berth/db";
import { isRepositoryName, type RegistryAction } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { eq } from "drizzle-orm";
import { verifyHostCredential } from "../hosts.ts";
import { authenticateBasic, type Principal, resolveApiToken } from "../sessions.ts";
import { registryRights } from "./access.ts";

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

/** One grant of a registry token, as in Docker's token spec: `repository:shop/web:pull,push`. */
export interface RegistryScope {
  type: string;
  name: string;
  actions: string[];
}

/** At most this many scopes are honoured per token request. */
export const MAX_REGISTRY_SCOPES = 32;

interface TokenClaims {
  sub: string;
  name: string;
  role: Role;
  /** The token was issued to a host (agent), not a user. */
  host?: boolean;
  exp: number;
  access: RegistryScope[];
}

/** Who a registry request comes from, and — for a registry bearer token — what the token grants. */
export interface RegistryCaller {
  principal: Principal;
  /** The token's grants; undefined for Basic credentials and API tokens, which carry the user's rights. */
  grants?: RegistryScope[];
}

/**
 * The `scope` parameters of a token request (`repository:NAME:ACTIONS`,
 * several per parameter separated by spaces); anything malformed is ignored,
 * as a token server grants only what it understands.
 */
export function parseRegistryScopes(values: readonly string[]): RegistryScope[] {
  const scopes: RegistryScope[] = [];
  for (const item of values.flatMap((v) => v.split(" "))) {
    const first = item.indexOf(":");
    const last = item.lastIndexOf(":");
    if (first <= 0 || last <= first + 1) continue;
    // `repository(plugin)` is a repository of a resource class.
    const type = item.slice(0, first).replace(/\(.*\)$/, "");
    const name = item.slice(first + 1, last);
    const actions = [
      ...new Set(
        item
          .slice(last + 1)
          .split(",")
          .filter(Boolean),
      ),
    ];
    if (type === "repository" && !isRepositoryName(name)) continue;
    if (type === "registry" && name !== "catalog") continue;
    if (type !== "repository" && type !== "registry") continue;
    scopes.push({ type, name, actions });
    if (scopes.length >= MAX_REGISTRY_SCOPES) break;
  }
  return scopes;
}

/**
 * What a token for `principal` may grant of the `requested` scopes: per
 * repository the intersection of the requested actions (`*` = all) and the
 * caller's rights there, never an error (Docker's token spec); the catalog
 * to every signed-in user (it lists only what they may pull).
 */
export async function grantRegistryScopes(
  db: Db,
  principal: Principal,
  requested: readonly RegistryScope[],
): Promise<RegistryScope[]> {
  const granted: RegistryScope[] = [];
  for (const scope of requested) {
    if (scope.type === "registry") {
      if (scope.actions.includes("*")) granted.push({ type: "registry", name: "catalog", actions: ["*"] });
      continue;
    }
    const rights: string[] = await rightsOf(db, principal, scope.name);
    const actions = scope.actions.includes("*") ? rights : scope.actions.filter((a) => rights.includes(a));
    if (actions.length > 0) granted.push({ type: "repository", name: scope.name, actions });
  }
  return granted;
}

/** Hosts pull any repository (to run what is deployed on them) and do nothing else; users per registryRights. */
async function rightsOf(db: Db, principal: Principal, repository: string): Promise<string[]> {
  return principal.via === "host" ? ["pull"] : registryRights(db, principal.userId, repository);
}

/** A short-lived bearer token for the registry (the Docker token flow): claims, then an HMAC. */
export function issueRegistryToken(
  key: Buffer,
  principal: Principal,
  access: RegistryScope[],
  now = Date.now(),
): string {
  const claims: TokenClaims = {
    sub: principal.userId,
    name: principal.username,
    role: principal.role,
    ...(principal.via === "host" ? { host: true } : {}),
    exp: Math.floor(now / 1000) + REGISTRY_TOKEN_TTL_S,
    access,
  };
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `brt.${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}

function verifyRegistryToken(key: Buffer, token: string, now = Date.now()): RegistryCaller | null {
  const [prefix, body, mac] = token.split(".");
  if (prefix !== "brt" || !body || !mac) return null;
  const expected = createHmac("sha256", key).update(body).digest();
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TokenClaims;
  if (claims.exp * 1000 < now) return null;
  return {
    principal: {
      userId: claims.sub,
      username: claims.name,
      role: claims.role,
      via: claims.host ? "host" : "token",
    },
    grants: Array.isArray(claims.access) ? claims.access : [],
  };
}

// Basic credentials are checked with argon2id, too slow to repeat for every
// layer of a push: a success is remembered for a minute, by the header's hash.
const basicCache = new Map<string, { principal: Principal; until: number }>();

/** Who an Authorization header says the caller is (with a registry token's grants): Basic (password or API token) or Bearer; null if none. */
export async function registryCaller(
  db: Db,
  key: Buffer,
  header: string | undefined,
): Promise<RegistryCaller | null> {
  if (!header) return null;
  const [scheme, value = ""] = header.split(" ", 2);
  if (scheme?.toLowerCase() === "bearer") {
    const caller = value.startsWith("brt.")
      ? verifyRegistryToken(key, value)
      : await resolveApiToken(db, value).then((principal) => (principal ? { principal } : null));
    if (!caller)
      throw new BerthError("Unauthenticated", "the token is not valid or has expired: log in again");
    return caller;
  }
  if (scheme?.toLowerCase() !== "basic")
    throw new BerthError("Unauthenticated", "use Basic or Bearer authentication");
  const cacheKey = createHash("sha256").update(header).digest("hex");
  const hit = basicCache.get(cacheKey);
  if (hit && hit.until > Date.now()) return { principal: hit.principal };
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw new BerthError("Unauthenticated", "malformed Basic credentials");
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const principal = username.startsWith("host_")
    ? await hostPrincipal(db, username, password)
    : await authenticateBasic(db, username, password);
  if (basicCache.size > 1000) basicCache.clear();
  basicCache.set(cacheKey, { principal, until: Date.now() + 60_000 });
  return { principal };
}

/** An agent authenticating with its host id and credential (to pull what its tasks run). */
async function hostPrincipal(db: Db, hostId: string, secret: string): Promise<Principal> {
  const host = await verifyHostCredential(db, hostId, secret);
  if (!host) throw new BerthError("Unauthenticated", "the host credential is not valid");
  return { userId: host.id, username: `host ${host.name}`, role: "viewer", via: "host" };
}

/** The outcome of an access check: allowed, refused (DENIED), or a token that lacks the scope. */
export type RegistryDecision =
  | { allowed: true }
  | { allowed: false; reason: "denied" | "insufficient_scope"; message: string };

/**
 * May `caller` do `action` to `repository` (null: the API root or the
 * catalog)? The caller's current rights decide (`registryRights`); a registry
 * bearer token must also grant the action, or the client is told to fetch a
 * token with the right scope.
 */
export async function checkRegistryAccess(
  db: Db,
  caller: RegistryCaller,
  access: { repository: string | null; action: RegistryAction },
): Promise<RegistryDecision> {
  const { repository, action } = access;
  if (repository === null) {
    if (action !== "catalog" || !caller.grants) return { allowed: true };
    return caller.grants.some((g) => g.type === "registry" && g.name === "catalog")
      ? { allowed: true }
      : { allowed: false, reason: "insufficient_scope", message: "the token does not grant the catalog" };
  }
  const rights: string[] = await rightsOf(db, caller.principal, repository);
  if (!rights.includes(action)) {
    return {
      allowed: false,
      reason: "denied",
      message: `${caller.principal.username} may not ${action} ${repository}${
        rights.length === 0 ? "" : ` (only ${rights.join(", ")})`
      }`,
    };
  }
  if (
    caller.grants &&
    !caller.grants.some(
      (g) =>
        g.type === "repository" &&
        g.name === repository &&
        (g.actions.includes(action) || g.actions.includes("*")),
    )
  ) {
    return {
      allowed: false,
      reason: "insufficient_scope",
      message: `the token does not grant ${action} on ${repository}`,
    };
  }
  return { allowed: true };
}
