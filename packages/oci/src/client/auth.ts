import { OciError } from "../errors.ts";

export interface Credentials {
  username: string;
  password: string;
}

/** A parsed `WWW-Authenticate` challenge. */
export type Challenge =
  | { scheme: "bearer"; realm: string; service?: string; scope?: string }
  | { scheme: "basic"; realm?: string };

/** Parses `auth-param`s: key="quoted, value", key=token. */
function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
  }
  return params;
}

/** The first Bearer or Basic challenge in a `WWW-Authenticate` header, or null. */
export function parseChallenge(header: string | null): Challenge | null {
  if (!header) return null;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return null;
  const scheme = match[1]!.toLowerCase();
  const params = parseParams(match[2]!);
  if (scheme === "bearer" && params.realm) {
    return {
      scheme: "bearer",
      realm: params.realm,
      ...(params.service !== undefined && { service: params.service }),
      ...(params.scope !== undefined && { scope: params.scope }),
    };
  }
  if (scheme === "basic")
    return { scheme: "basic", ...(params.realm !== undefined && { realm: params.realm }) };
  return null;
}

export function basicHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Bearer tokens per registry and scope, kept until (just before) they expire. */
export class TokenCache {
  #tokens = new Map<string, CachedToken>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get(registry: string, scope: string): string | undefined {
    const key = `${registry} ${scope}`;
    const hit = this.#tokens.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.#now()) {
      this.#tokens.delete(key);
      return undefined;
    }
    return hit.token;
  }

  set(registry: string, scope: string, token: string, expiresInSeconds: number): void {
    // Renew 10 s early so a token never expires in flight.
    const ttl = Math.max(expiresInSeconds - 10, 1) * 1000;
    this.#tokens.set(`${registry} ${scope}`, { token, expiresAt: this.#now() + ttl });
  }
}

export interface TokenRequest {
  fetch: typeof globalThis.fetch;
  challenge: Extract<Challenge, { scheme: "bearer" }>;
  /** Each sent as a `scope` parameter (a push with a mount asks for two repositories). */
  scopes: readonly string[];
  registry: string;
  credentials: Credentials | undefined;
  userAgent: string;
}

/** GETs a token from the challenge's realm (the Docker token flow); default lifetime 60 s. */
export async function fetchToken(req: TokenRequest): Promise<{ token: string; expiresIn: number }> {
  let url: URL;
  try {
    url = new URL(req.challenge.realm);
  } catch (err) {
    throw new OciError("Unavailable", `${req.registry}: bad token realm "${req.challenge.realm}"`, {
      cause: err,
    });
  }
  if (req.challenge.service) url.searchParams.set("service", req.challenge.service);
  for (const scope of req.scopes) url.searchParams.append("scope", scope);
  const headers: Record<string, string> = { "user-agent": req.userAgent };
  if (req.credentials) headers.authorization = basicHeader(req.credentials);
  let res: Response;
  try {
    res = await req.fetch(url, { headers });
  } catch (err) {
    throw new OciError("Unavailable", `${req.registry}: token server ${url.host} unreachable`, {
      cause: err,
    });
  }
  if (res.status === 401)
    throw new OciError("Unauthenticated", `${req.registry}: token server refused the credentials`);
  if (res.status === 403)
    throw new OciError("PermissionDenied", `${req.registry}: no access to ${req.scopes.join(" ")}`);
  if (!res.ok) throw new OciError("Unavailable", `${req.registry}: token server answered ${res.status}`);
  const body = (await res.json().catch(() => ({}))) as {
    token?: string;
    access_token?: string;
    expires_in?: number;
  };
  const token = body.token ?? body.access_token;
  if (!token) throw new OciError("Unavailable", `${req.registry}: token server sent no token`);
  return {
    token,
    expiresIn: typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60,
  };
}
