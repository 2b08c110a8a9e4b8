import { AsyncLocalStorage } from "node:async_hooks";
import type http from "node:http";
import {
  type ChangeFeed,
  checkRegistryAccess,
  createPgRegistryMetadata,
  grantRegistryScopes,
  issueRegistryToken,
  parseRegistryScopes,
  REGISTRY_TOKEN_TTL_S,
  type RegistryCaller,
  registryCaller,
  registryTokenKey,
} from "@berth/control";
import type { Db } from "@berth/db";
import { createFsBlobStore, createRegistryHandler, type RegistryAccess, RegistryError } from "@berth/oci";
import { isBerthError } from "@berth/protocol";
import type { Logger } from "pino";

/** The path of the token endpoint of the Docker token flow. */
export const REGISTRY_TOKEN_PATH = "/auth/token";

export interface RegistryServer {
  /** Everything under /v2/. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  /** GET /auth/token: Basic credentials (password or API token) in, a short-lived bearer token out. */
  token(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
}

function origin(req: http.IncomingMessage, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/$/, "");
  return `http://${req.headers.host ?? "localhost"}`;
}

function challenge(
  req: http.IncomingMessage,
  access: RegistryAccess,
  publicUrl: string | undefined,
  error?: "insufficient_scope",
): string {
  const actions = access.action === "push" ? "pull,push" : access.action;
  const scope = access.repository
    ? `,scope="repository:${access.repository}:${actions}"`
    : access.action === "catalog"
      ? ',scope="registry:catalog:*"'
      : "";
  const err = error ? `,error="${error}"` : "";
  return `Bearer realm="${origin(req, publicUrl)}${REGISTRY_TOKEN_PATH}",service="berth"${scope}${err}`;
}

/**
 * Berth's built-in registry: the OCI Distribution API of @berth/oci, with
 * blobs under `root`, metadata in Postgres, and Berth's users: Basic
 * (password or API token) or the Docker bearer-token flow. Rights per
 * repository by team (`checkRegistryAccess`); a refusal is DENIED (403), a
 * missing or bad login UNAUTHORIZED (401) with a challenge. Pushes and
 * deletes publish a `registry` change on `feed`.
 */
export async function createRegistryServer(o: {
  db: Db;
  root: string;
  log: Logger;
  publicUrl?: string;
  feed?: ChangeFeed;
}): Promise<RegistryServer> {
  const key = await registryTokenKey(o.db);
  const log = o.log.child({ component: "registry" });
  const request = new AsyncLocalStorage<{ caller: RegistryCaller | null }>();
  const principal = () => request.getStore()?.caller?.principal ?? null;
  const metadata = createPgRegistryMetadata(o.db, {
    pushedBy: () => principal()?.username ?? null,
    catalogFor: () => principal()?.userId ?? null,
    onChange: (repository) => {
      o.feed
        ?.publish({ topic: "registry", id: repository })
        .catch((err: unknown) => log.warn({ err, repository }, "could not publish a registry change"));
    },
  });

  async function authorize(req: http.IncomingMessage, access: RegistryAccess): Promise<void> {
    const unauthorized = (message: string, error?: "insufficient_scope") =>
      new RegistryError("UNAUTHORIZED", message, {
        headers: { "WWW-Authenticate": challenge(req, access, o.publicUrl, error) },
      });
    let caller: RegistryCaller | null;
    try {
      caller = await registryCaller(o.db, key, req.headers.authorization);
    } catch (err) {
      throw unauthorized(isBerthError(err) ? err.message : "authentication failed");
    }
    if (!caller) throw unauthorized("authentication required: log in with a Berth user or API token");
    const decision = await checkRegistryAccess(o.db, caller, access);
    if (!decision.allowed) {
      if (decision.reason === "insufficient_scope")
        throw unauthorized(decision.message, "insufficient_scope");
      throw new RegistryError("DENIED", decision.message, {
        detail: { repository: access.repository, action: access.action },
      });
    }
    const store = request.getStore();
    if (store) store.caller = caller;
  }

  const handler = createRegistryHandler({
    blobs: createFsBlobStore({ root: o.root }),
    metadata,
    authorize,
    log,
  });
  return {
    handle: (req, res) => request.run({ caller: null }, () => handler(req, res)),
    async token(req, res) {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, {
          "content-type": "application/json",
          "cache-control": "no-store",
          ...headers,
        });
        res.end(JSON.stringify(body));
      };
      try {
        const caller = await registryCaller(o.db, key, req.headers.authorization);
        if (!caller) {
          return send(
            401,
            { errors: [{ code: "UNAUTHORIZED", message: "log in with a Berth user or API token" }] },
            {
              "WWW-Authenticate": 'Basic realm="berth"',
            },
          );
        }
        // Docker's token spec: grant what may be granted of the scopes asked for, never an error.
        const url = new URL(req.url ?? "/", "http://localhost");
        const access = await grantRegistryScopes(
          o.db,
          caller.principal,
          parseRegistryScopes(url.searchParams.getAll("scope")),
        );
        const token = issueRegistryToken(key, caller.principal, access);
        send(200, {
          token,
          access_token: token,
          expires_in: REGISTRY_TOKEN_TTL_S,
          issued_at: new Date().toISOString(),
        });
      } catch (err) {
        const message = isBerthError(err) ? err.message : "authentication failed";
        if (!isBerthError(err)) log.error({ err }, "token request failed");
        send(
          401,
          { errors: [{ code: "UNAUTHORIZED", message }] },
          { "WWW-Authenticate": 'Basic realm="berth"' },
        );
      }
    },
  };
}
