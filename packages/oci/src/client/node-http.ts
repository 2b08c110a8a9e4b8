import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { pipeline, Readable } from "node:stream";

/**
 * node:http(s) instead of fetch for what carries a layer: the GETs of a pull
 * (manifests and blobs) and the streamed bodies of an upload. A layer of
 * hundreds of megabytes then goes as the socket's own Buffers, or as the
 * file's, without fetch's web-stream layer (a copy, a promise and a reader hop
 * per chunk): the download alone took about 30% more CPU through fetch, and an
 * upload spent more than half its time copying each chunk into a fresh
 * Uint8Array (test/bench/README.md). A pull from a registry without tokens never
 * loads fetch's HTTP stack (undici, ~40 ms of start-up).
 */

/** Redirects followed, as fetch follows (registries send blob GETs to a storage host). */
export const MAX_REDIRECTS = 20;
/** How long a connection may send nothing (headers or body) before the GET fails; undici's 300 s. */
export const IDLE_TIMEOUT_MS = 300_000;
/** How long connecting may take (a host that drops packets would take the kernel's two minutes); undici's 10 s. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** How long a kept-alive connection may sit unused before it is closed; undici's 4 s. */
const KEEP_ALIVE_MS = 4_000;

/**
 * Keep-alive as fetch does: the layers of a pull share connections. An unused socket never keeps
 * the process alive (http.Agent unrefs it) and closes after KEEP_ALIVE_MS (http.Agent destroys a
 * free socket that times out). Not the Agent's `timeout` option: that also limits connecting.
 */
function keepAlive<A extends http.Agent>(agent: A): A {
  agent.on("free", (socket: Socket) => socket.setTimeout(KEEP_ALIVE_MS));
  return agent;
}

const transports = {
  "http:": { request: http.request, agent: keepAlive(new http.Agent({ keepAlive: true })) },
  "https:": { request: https.request, agent: keepAlive(new https.Agent({ keepAlive: true })) },
};

/** Read access to response headers, as `Headers.get` gives it (names in any case, repeats joined). */
export interface HeaderReader {
  get(name: string): string | null;
}

export interface StreamReply {
  status: number;
  headers: HeaderReader;
  /** The body; read it, or `resume()` it to let the connection be reused. */
  body: IncomingMessage;
}

export interface GetOptions {
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

// Not the Headers class: in Node 20 its first use loads undici, all of fetch's HTTP stack.
function headerReader(res: IncomingMessage): HeaderReader {
  return {
    get(name) {
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

/** What one request sends: a GET has no body; an upload's body is streamed with backpressure. */
interface Outgoing {
  method: string;
  headers: Record<string, string>;
  body?: AsyncIterable<Uint8Array>;
}

/** A request failed because its body did: `cause` is the body's own error, not the network's. */
export class BodyError extends Error {
  constructor(cause: unknown) {
    super((cause as Error).message, { cause });
    this.name = "BodyError";
  }
}

function send(url: URL, outgoing: Outgoing, timeouts: Required<GetOptions>): Promise<IncomingMessage> {
  const { idleTimeoutMs, connectTimeoutMs } = timeouts;
  const transport = transports[url.protocol as keyof typeof transports];
  if (!transport) return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  const { request, agent } = transport;
  const { method, headers, body } = outgoing;
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    let bodySent = body === undefined;
    const req = request(url, { method, agent, headers }, (res) => {
      response = res;
      res.on("error", () => {}); // its reader sees it; a body nobody reads must not crash the process
      // Answered before the whole body went (a challenge, a refusal): the rest is not sent.
      if (!bodySent) res.once("end", () => bodySent || req.destroy());
      resolve(res);
    });
    // The body's own failure when there is one: the request fails with "socket hang up" then.
    let bodyFailure: BodyError | undefined;
    req.on("error", (err) => reject(bodyFailure ?? err));
    req.on("socket", (socket) => {
      if (!socket.connecting) return; // a kept-alive connection
      const timer = setTimeout(
        () => req.destroy(new Error(`could not connect to ${url.host} in ${connectTimeoutMs / 1000} s`)),
        connectTimeoutMs,
      );
      socket.once("connect", () => clearTimeout(timer));
      socket.once("close", () => clearTimeout(timer));
    });
    req.setTimeout(idleTimeoutMs, () => {
      const err = new Error(`no data from ${url.host} for ${idleTimeoutMs / 1000} s`);
      // Before the response this rejects the promise; after it, the body fails with the error.
      response?.destroy(err);
      req.destroy(err);
    });
    if (body === undefined) req.end();
    else {
      // A body that fails (its file unreadable, the upload aborted) aborts the request, which
      // rejects with a BodyError; the request failing stops the body.
      const marked = async function* () {
        try {
          yield* body;
        } catch (err) {
          bodyFailure = new BodyError(err);
          throw bodyFailure;
        }
      };
      pipeline(Readable.from(marked(), { objectMode: false }), req, () => {
        bodySent = true;
      });
    }
  });
}

const timeoutsOf = (options: GetOptions): Required<GetOptions> => ({
  idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
  connectTimeoutMs: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
});

/**
 * GETs `url`, following redirects. A redirect to another origin (a storage host)
 * is sent without the Authorization header, as fetch does.
 */
export async function getStream(
  url: string,
  headers: Record<string, string>,
  options: GetOptions = {},
): Promise<StreamReply> {
  const timeouts = timeoutsOf(options);
  let current = new URL(url);
  // Digests are of the bytes as stored: no content coding (fetch would ask for gzip and undo it).
  let sent: Record<string, string> = { ...headers, "accept-encoding": "identity" };
  for (let redirects = 0; ; redirects++) {
    const res = await send(current, { method: "GET", headers: sent }, timeouts);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (!isRedirect(status) || location === undefined)
      return { status, headers: headerReader(res), body: res };
    res.resume();
    if (redirects === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
    const next = new URL(location, current);
    if (next.origin !== current.origin) {
      const { authorization: _dropped, ...rest } = sent;
      sent = rest;
    }
    current = next;
  }
}

/**
 * Sends `body` with `method` (an upload's PATCH or PUT) and returns the reply unread. Redirects are
 * not followed: a streamed body cannot be sent twice.
 */
export async function sendStream(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array>,
  options: GetOptions = {},
): Promise<StreamReply> {
  const res = await send(new URL(url), { method, headers, body }, timeoutsOf(options));
  return { status: res.statusCode ?? 0, headers: headerReader(res), body: res };
}
