import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { digestOf } from "../digest/digest.ts";
import { isOciError, type OciErrorCode } from "../errors.ts";
import { MediaType } from "../manifest/media-types.ts";
import { parseReference } from "../ref/reference.ts";
import { createRegistryClient } from "./client.ts";

// A tiny in-memory registry: enough of the push API to see what the client sends.

type Auth = "none" | "basic" | "bearer";

interface Tiny {
  host: string;
  /** `METHOD path?query status` per request. */
  log: string[];
  /** Scopes asked of the token endpoint, per request. */
  tokenScopes: string[][];
  blobs: Map<string, Buffer>;
  /** repository → digests it holds. */
  repos: Map<string, Set<string>>;
  manifests: Map<string, { type: string; body: Buffer }>;
  close(): Promise<void>;
}

interface TinyOptions {
  auth: Auth;
  /** Location headers absolute (http://host/...) instead of relative. */
  absolute?: boolean;
  /** Refuse mounts (answer a mount with a new session, as registries may). */
  noMount?: boolean;
}

const BASIC = `Basic ${Buffer.from("alice:secret").toString("base64")}`;
const PUSH_TOKEN = "Bearer tok-push";

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function startTiny(opts: TinyOptions): Promise<Tiny> {
  let host = "";
  const t: Omit<Tiny, "close" | "host"> = {
    log: [],
    tokenScopes: [],
    blobs: new Map(),
    repos: new Map(),
    manifests: new Map(),
  };
  const uploads = new Map<string, { repo: string; data: Buffer }>();
  let next = 0;
  const has = (repo: string, d: string) => t.repos.get(repo)?.has(d) ?? false;
  const link = (repo: string, d: string) => {
    if (!t.repos.has(repo)) t.repos.set(repo, new Set());
    t.repos.get(repo)!.add(d);
  };
  const loc = (path: string) => (opts.absolute ? `http://${host}${path}` : path);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = req.headers.authorization ?? "";
    if (url.pathname === "/token") {
      if (auth !== BASIC) return void res.writeHead(401).end();
      t.tokenScopes.push(url.searchParams.getAll("scope"));
      const push = url.searchParams.getAll("scope").includes("repository:team/app:push,pull");
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ token: push ? "tok-push" : "tok-pull" }));
    }
    const allowed =
      opts.auth === "none" ||
      (opts.auth === "basic" && auth === BASIC) ||
      (opts.auth === "bearer" && auth === PUSH_TOKEN);
    if (!allowed) {
      await readBody(req);
      const challenge =
        opts.auth === "basic"
          ? 'Basic realm="tiny"'
          : `Bearer realm="http://${host}/token",service="tiny",scope="repository:team/app:pull,push"`;
      res.writeHead(401, { "www-authenticate": challenge, "content-type": "application/json" });
      return void res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "log in" }] }));
    }
    const m =
      /^\/v2\/(.+?)\/(blobs\/uploads\/?|blobs\/uploads\/([^/]+)|blobs\/([^/]+)|manifests\/([^/]+))$/.exec(
        url.pathname,
      );
    if (!m) return void res.writeHead(404).end();
    const [, repo, , uploadId, blobDigest, manifestRef] = m as unknown as (string | undefined)[];
    const body = await readBody(req);
    if (blobDigest !== undefined && req.method === "HEAD") {
      if (!has(repo!, blobDigest)) return void res.writeHead(404).end();
      return void res.writeHead(200, { "content-length": t.blobs.get(blobDigest)!.length }).end();
    }
    if (uploadId === undefined && req.method === "POST") {
      const mount = url.searchParams.get("mount");
      const from = url.searchParams.get("from");
      if (mount && from && !opts.noMount && has(from, mount)) {
        link(repo!, mount);
        return void res.writeHead(201, { location: loc(`/v2/${repo}/blobs/${mount}`) }).end();
      }
      const id = `u${next++}`;
      uploads.set(id, { repo: repo!, data: Buffer.alloc(0) });
      return void res
        .writeHead(202, { location: loc(`/v2/${repo}/blobs/uploads/${id}?_state=s${id}`) })
        .end();
    }
    const upload = uploadId ? uploads.get(uploadId) : undefined;
    if (upload && req.method === "PATCH") {
      if (url.searchParams.get("_state") !== `s${uploadId}`) return void res.writeHead(400).end();
      upload.data = Buffer.concat([upload.data, body]);
      return void res
        .writeHead(202, { location: loc(`/v2/${repo}/blobs/uploads/${uploadId}?_state=p${uploadId}`) })
        .end();
    }
    if (upload && req.method === "DELETE") {
      uploads.delete(uploadId!);
      return void res.writeHead(204).end();
    }
    if (upload && req.method === "PUT") {
      const data = Buffer.concat([upload.data, body]);
      const digest = url.searchParams.get("digest");
      if (digest !== digestOf(data)) {
        res.writeHead(400, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ errors: [{ code: "DIGEST_INVALID", message: "no" }] }));
      }
      uploads.delete(uploadId!);
      t.blobs.set(digest, data);
      link(repo!, digest);
      return void res.writeHead(201, { "docker-content-digest": digest }).end();
    }
    if (manifestRef !== undefined && req.method === "PUT") {
      const digest = digestOf(body);
      t.manifests.set(`${repo}:${manifestRef}`, { type: req.headers["content-type"] ?? "", body });
      return void res.writeHead(201, { "docker-content-digest": digest }).end();
    }
    res.writeHead(405).end();
  }

  const server = createServer((req, res) => {
    res.on("finish", () => t.log.push(`${req.method} ${req.url} ${res.statusCode}`));
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { ...t, host, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let tiny: Tiny | undefined;
afterEach(async () => {
  await tiny?.close();
  tiny = undefined;
});

const creds = () => ({ username: "alice", password: "secret" });
const small = Buffer.from("a config blob");
const large = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
const source = (data: Buffer) => ({ digest: digestOf(data), size: data.length, open: () => data });
/** The bytes as a stream of 64 KiB chunks, as a file stream would give them. */
const streamed = (data: Buffer) => ({
  ...source(data),
  open: async function* () {
    for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536);
  },
});

async function codeOf(promise: Promise<unknown>): Promise<OciErrorCode | "none"> {
  try {
    await promise;
    return "none";
  } catch (err) {
    if (isOciError(err)) return err.code;
    throw err;
  }
}

const requests = (t: Tiny, method: string) => t.log.filter((l) => l.startsWith(`${method} `));

describe("registry client push", () => {
  it("uploads a small blob monolithically (POST, then PUT with the bytes) and skips it next time", async () => {
    tiny = await startTiny({ auth: "none" });
    const client = createRegistryClient();
    const repo = { registry: tiny.host, repository: "team/app" };
    expect(await client.blobExists(repo, digestOf(small))).toBeNull();
    expect(await client.pushBlob(repo, source(small))).toBe("uploaded");
    expect(tiny.blobs.get(digestOf(small))?.equals(small)).toBe(true);
    expect(requests(tiny, "PATCH")).toEqual([]);
    expect(requests(tiny, "PUT")).toHaveLength(1);
    expect(await client.blobExists(repo, digestOf(small))).toBe(small.length);
    expect(await client.pushBlob(repo, source(small))).toBe("exists");
    expect(requests(tiny, "POST")).toHaveLength(1);
  });

  it("streams a large blob (POST, PATCH, PUT with the digest) following absolute Locations, with progress", async () => {
    tiny = await startTiny({ auth: "none", absolute: true });
    const client = createRegistryClient();
    const repo = { registry: tiny.host, repository: "team/app" };
    const progress: number[] = [];
    const result = await client.pushBlob(repo, streamed(large), {
      onProgress: (sent, total) => {
        expect(total).toBe(large.length);
        progress.push(sent);
      },
    });
    expect(result).toBe("uploaded");
    expect(tiny.blobs.get(digestOf(large))?.equals(large)).toBe(true);
    expect(requests(tiny, "PATCH")).toEqual([expect.stringMatching(/_state=su0 202$/)]);
    expect(requests(tiny, "PUT")).toEqual([
      expect.stringMatching(/_state=pu0&digest=sha256%3A[a-f0-9]{64} 201$/),
    ]);
    expect(progress.at(-1)).toBe(large.length);
    expect(progress.length).toBeGreaterThan(3);
  });

  it("can force either upload method", async () => {
    tiny = await startTiny({ auth: "none" });
    const client = createRegistryClient();
    const repo = { registry: tiny.host, repository: "team/app" };
    await client.uploadBlob(repo, source(small), { method: "streamed" });
    await client.uploadBlob(repo, streamed(large), { method: "monolithic" });
    expect(requests(tiny, "PATCH")).toHaveLength(1);
    expect(tiny.blobs.get(digestOf(large))?.equals(large)).toBe(true);
  });

  it("mounts a blob from another repository of the registry, and uploads when the mount is refused", async () => {
    tiny = await startTiny({ auth: "none" });
    const client = createRegistryClient();
    const base = { registry: tiny.host, repository: "team/base" };
    await client.pushBlob(base, source(small));
    const app = { registry: tiny.host, repository: "team/app" };
    expect(await client.pushBlob(app, source(small), { mountFrom: "team/base" })).toBe("mounted");
    expect(requests(tiny, "POST").at(-1)).toMatch(/mount=sha256%3A[a-f0-9]{64}&from=team%2Fbase 201$/);
    expect(tiny.repos.get("team/app")?.has(digestOf(small))).toBe(true);

    const mountOnly = { registry: tiny.host, repository: "team/mount-only" };
    expect(await client.mountBlob(mountOnly, digestOf(small), "team/base")).toBe(true);
    expect(await client.mountBlob(mountOnly, digestOf(large), "team/base")).toBe(false);
    expect(requests(tiny, "DELETE")).toEqual([
      expect.stringMatching(/^DELETE \/v2\/team\/mount-only\/blobs\/uploads\//),
    ]);

    const other = { registry: tiny.host, repository: "team/other" };
    expect(await client.pushBlob(other, source(small), { mountFrom: "team/nowhere" })).toBe("uploaded");
    expect(requests(tiny, "POST").at(-1)).toMatch(/from=team%2Fnowhere 202$/);
    expect(requests(tiny, "PUT").at(-1)).toMatch(/digest=sha256.* 201$/);
  });

  it("puts a manifest by tag and returns its digest", async () => {
    tiny = await startTiny({ auth: "none" });
    const client = createRegistryClient();
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest }));
    const ref = parseReference(`${tiny.host}/team/app:1`);
    expect(await client.putManifest(ref, MediaType.OciManifest, bytes)).toBe(digestOf(bytes));
    expect(tiny.manifests.get("team/app:1")).toEqual({ type: MediaType.OciManifest, body: bytes });
    const wrong = parseReference(`${tiny.host}/team/app@${digestOf("other")}`);
    expect(await codeOf(client.putManifest(wrong, MediaType.OciManifest, bytes))).toBe("InvalidArgument");
  });

  it("asks the token server for push,pull (and pull on a mount's source) and reuses the token", async () => {
    tiny = await startTiny({ auth: "bearer" });
    const client = createRegistryClient({ credentials: creds });
    const repo = { registry: tiny.host, repository: "team/app" };
    expect(await client.pushBlob(repo, streamed(large))).toBe("uploaded");
    expect(await client.pushBlob(repo, source(small))).toBe("uploaded");
    await client.putManifest(parseReference(`${tiny.host}/team/app:1`), MediaType.OciManifest, small);
    expect(tiny.tokenScopes).toEqual([["repository:team/app:push,pull", "repository:team/app:pull,push"]]);
    await client.pushBlob(repo, source(Buffer.from("x")), { mountFrom: "team/base" });
    expect(tiny.tokenScopes[1]).toEqual([
      "repository:team/app:push,pull",
      "repository:team/base:pull",
      "repository:team/app:pull,push",
    ]);
    expect(requests(tiny, "PATCH").every((l) => l.endsWith(" 202"))).toBe(true);
  });

  it("answers a Basic challenge, and maps refusals to codes", async () => {
    tiny = await startTiny({ auth: "basic" });
    const repo = { registry: tiny.host, repository: "team/app" };
    expect(await createRegistryClient({ credentials: creds }).pushBlob(repo, streamed(large))).toBe(
      "uploaded",
    );
    expect(await codeOf(createRegistryClient().pushBlob(repo, source(small)))).toBe("Unauthenticated");
    const none = await startTiny({ auth: "none" });
    try {
      const lying = { ...source(small), digest: digestOf("something else") };
      const client = createRegistryClient();
      const at = { registry: none.host, repository: "team/app" };
      expect(await codeOf(client.uploadBlob(at, lying))).toBe("InvalidArgument");
      expect(await codeOf(client.blobExists(at, "sha256:nope"))).toBe("InvalidArgument");
    } finally {
      await none.close();
    }
  });
});
