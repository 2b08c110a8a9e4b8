import { OciError } from "../errors.ts";
import {
  basicHeader,
  type Challenge,
  type Credentials,
  fetchToken,
  parseChallenge,
  TokenCache,
} from "./auth.ts";
import { type FailedResponse, networkError, responseError } from "./errors.ts";
import {
  BodyError,
  type GetOptions,
  getStream,
  type HeaderReader,
  type StreamReply,
  sendStream,
} from "./node-http.ts";

/** How much of a failed GET's body is read for its error document. */
const MAX_ERROR_BODY = 64 * 1024;

export interface RegistryClientOptions {
  /** For HEADs, uploads and token requests; manifests and blobs are GETs through node:http. */
  fetch?: typeof globalThis.fetch;
  /** Credentials for a registry host (as written in references: `docker.io`, `localhost:5000`). */
  credentials?: (registry: string) => Credentials | undefined;
  userAgent?: string;
  /** Plain http instead of https; default: localhost, 127.0.0.1 and [::1] on any port. */
  insecure?: (registry: string) => boolean;
  /** GETs of manifests and blobs (node:http): how long the registry may send nothing; default 300 s. */
  idleTimeoutMs?: number;
  /** The same GETs: how long connecting may take; default 10 s. */
  connectTimeoutMs?: number;
}

/** A request body, made afresh for each attempt (a 401 answered with credentials sends it again). */
export type RequestBody = () => Buffer | AsyncIterable<Uint8Array>;

export interface RegistryRequest {
  registry: string;
  repository: string;
  /** Path under /v2/<repository>/, e.g. `manifests/latest`; or an absolute URL (an upload's Location). */
  path: string;
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Token scopes to ask for; default `repository:<repository>:pull`. */
  scopes?: readonly string[];
  /** For messages: "manifest busybox:latest". */
  what: string;
}

/** The scope of a push to `repository` (Docker asks for both actions). */
export const pushScope = (repository: string) => `repository:${repository}:push,pull`;
export const pullScope = (repository: string) => `repository:${repository}:pull`;

const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";

export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith("[")
    ? registry.slice(0, registry.indexOf("]") + 1)
    : registry.split(":")[0];
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
}

/** The host to talk to: Docker Hub's API lives at registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB || registry === "index.docker.io" ? DOCKER_HUB_API : registry;
}

/**
 * Sends requests to a registry's /v2/ API with its authentication: anonymous
 * first; on 401 the WWW-Authenticate challenge decides — a Bearer token from
 * the realm (cached per registry and scope) or Basic credentials — and the
 * request is sent once more.
 */
export class RegistryHttp {
  readonly #fetch: typeof globalThis.fetch;
  readonly #credentials: (registry: string) => Credentials | undefined;
  readonly #insecure: (registry: string) => boolean;
  readonly userAgent: string;
  readonly #tokens = new TokenCache();
  /** Registries known to want Basic credentials. */
  readonly #basic = new Set<string>();
  readonly #streamOptions: GetOptions;

  constructor(options: RegistryClientOptions = {}) {
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#credentials = options.credentials ?? (() => undefined);
    this.#insecure = options.insecure ?? isLoopbackRegistry;
    this.userAgent = options.userAgent ?? "berth";
    this.#streamOptions = {
      idleTimeoutMs: options.idleTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
    };
  }

  url(registry: string, repository: string, path: string): string {
    if (/^https?:\/\//.test(path)) return path;
    const scheme = this.#insecure(registry) ? "http" : "https";
    return `${scheme}://${apiHost(registry)}/v2/${repository}/${path}`;
  }

  #authorization(req: RegistryRequest, scope: string): string | undefined {
    const token = this.#tokens.get(req.registry, scope);
    if (token) return `Bearer ${token}`;
    const creds = this.#basic.has(req.registry) ? this.#credentials(req.registry) : undefined;
    return creds ? basicHeader(creds) : undefined;
  }

  async #send(req: RegistryRequest, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { "user-agent": this.userAgent, ...req.headers };
    if (authorization) headers.authorization = authorization;
    const body = req.body?.();
    const url = this.url(req.registry, req.repository, req.path);
    try {
      if (body !== undefined && !Buffer.isBuffer(body)) {
        // A layer's bytes: through node:http (node-http.ts), not redirected (it cannot be sent twice).
        return await asResponse(await sendStream(url, req.method, headers, body, this.#streamOptions));
      }
      return await this.#fetch(url, {
        method: req.method,
        headers,
        ...(body !== undefined && { body: new Uint8Array(body) }),
      });
    } catch (err) {
      // The blob could not be read (or its upload was aborted): that error, not the registry's.
      if (err instanceof BodyError) throw err.cause;
      throw networkError(err, req.registry, req.what);
    }
  }

  /** Answers a challenge: the Authorization header to retry with, or null when there is none to give. */
  async #answer(
    req: RegistryRequest,
    challenge: Challenge,
    scopes: readonly string[],
  ): Promise<string | null> {
    const credentials = this.#credentials(req.registry);
    if (challenge.scheme === "basic") {
      if (!credentials) return null;
      this.#basic.add(req.registry);
      return basicHeader(credentials);
    }
    const asked =
      challenge.scope && !scopes.includes(challenge.scope) ? [...scopes, challenge.scope] : scopes;
    const { token, expiresIn } = await fetchToken({
      fetch: this.#fetch,
      challenge,
      scopes: asked,
      registry: req.registry,
      credentials,
      userAgent: this.userAgent,
    });
    this.#tokens.set(req.registry, scopes.join(" "), token, expiresIn);
    return `Bearer ${token}`;
  }

  /**
   * Sends with the authorization known for the scopes; on a 401 answers the
   * challenge (token or Basic credentials) and sends once more.
   */
  async #authorized<R extends { status: number; headers: HeaderReader }>(
    req: RegistryRequest,
    send: (authorization: string | undefined) => Promise<R>,
    discard: (res: R) => Promise<void> | void,
  ): Promise<R> {
    const scopes = req.scopes ?? [pullScope(req.repository)];
    const res = await send(this.#authorization(req, scopes.join(" ")));
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get("www-authenticate"));
    const authorization = challenge ? await this.#answer(req, challenge, scopes) : null;
    if (!authorization) return res;
    await discard(res);
    return send(authorization);
  }

  /** A successful response (2xx), or an OciError with the registry's code. */
  async request(req: RegistryRequest): Promise<Response> {
    const res = await this.#authorized(
      req,
      (authorization) => this.#send(req, authorization),
      (r) => r.body?.cancel(),
    );
    if (res.ok) return res;
    if (req.method === "HEAD") {
      await res.body?.cancel();
      throw await responseError({ status: res.status, text: async () => "" }, req.registry, req.what);
    }
    throw await responseError(res, req.registry, req.what);
  }

  /**
   * A GET whose body is a Node stream (manifests and blobs): node:http(s)
   * rather than fetch, with the same authentication and errors as `request`.
   */
  async stream(req: Omit<RegistryRequest, "method" | "body">): Promise<StreamReply> {
    const request: RegistryRequest = { ...req, method: "GET" };
    const url = this.url(req.registry, req.repository, req.path);
    const res = await this.#authorized(
      request,
      async (authorization) => {
        const headers: Record<string, string> = { "user-agent": this.userAgent, ...req.headers };
        if (authorization) headers.authorization = authorization;
        try {
          return await getStream(url, headers, this.#streamOptions);
        } catch (err) {
          throw networkError(err, req.registry, req.what);
        }
      },
      (r) => void r.body.resume(),
    );
    if (res.status >= 200 && res.status < 300) return res;
    throw await responseError(await bufferedReply(res), req.registry, req.what);
  }
}

/**
 * An upload's reply as a fetch Response: its status, headers and the start of its body (an error
 * document, or nothing a client reads).
 */
async function asResponse(reply: StreamReply): Promise<Response> {
  const { status, text } = await bufferedReply(reply);
  const headers = new Headers();
  const raw = reply.body.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  // A Response may not have a body with these statuses.
  const bodiless = status === 204 || status === 205 || status === 304;
  return new Response(bodiless ? null : await text(), { status, headers });
}

/** A failed reply with the start of its body (its error document), for responseError. */
async function bufferedReply(res: StreamReply): Promise<FailedResponse> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_ERROR_BODY) break;
    }
  } catch {
    // The status alone still names the error.
  } finally {
    res.body.destroy();
  }
  const text = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString("utf8");
  return { status: res.status, text: async () => text };
}

export function checkedLength(res: { headers: HeaderReader }, max: number, what: string): void {
  const length = Number(res.headers.get("content-length") ?? "0");
  if (length > max) throw new OciError("InvalidArgument", `${what} is ${length} bytes; the limit is ${max}`);
}
