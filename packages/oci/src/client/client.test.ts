import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { digestOf } from "../digest/digest.ts";
import { isOciError, type OciErrorCode } from "../errors.ts";
import { MediaType } from "../manifest/media-types.ts";
import { parseReference } from "../ref/reference.ts";
import { parseChallenge, TokenCache } from "./auth.ts";
import { createRegistryClient } from "./client.ts";
import { apiHost } from "./http.ts";

const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest }));
const manifestDigest = digestOf(manifest);
const blob = Buffer.from("layer bytes ".repeat(1000));
const blobDigest = digestOf(blob);

interface Registry {
  host: string;
  log: string[];
  close(): Promise<void>;
}

type Auth = "none" | "bearer" | "basic";

interface RegistryOptions {
  auth: Auth;
  /** Sent as Docker-Content-Digest. */
  headerDigest?: string;
  /** Served instead of the manifest. */
  body?: Buffer;
}

function handle(opts: RegistryOptions, host: () => string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://x");
  const auth = req.headers.authorization ?? "";
  const basic = `Basic ${Buffer.from("alice:secret").toString("base64")}`;
  if (url.pathname === "/token") {
    if (auth !== basic) return void res.writeHead(401).end();
    const scope = url.searchParams.get("scope");
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ token: `tok:${scope}`, expires_in: 300 }));
  }
  if (url.pathname.startsWith("/data/")) return void res.writeHead(200).end(blob);
  const allowed =
    opts.auth === "none" ||
    (opts.auth === "basic" && auth === basic) ||
    (opts.auth === "bearer" && auth === "Bearer tok:repository:test/app:pull");
  if (!allowed) {
    const challenge =
      opts.auth === "basic"
        ? 'Basic realm="test"'
        : `Bearer realm="http://${host()}/token",service="test-registry",scope="repository:test/app:pull"`;
    res.writeHead(401, { "www-authenticate": challenge, "content-type": "application/json" });
    return void res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "auth required" }] }));
  }
  if (
    url.pathname === "/v2/test/app/manifests/v1" ||
    url.pathname === `/v2/test/app/manifests/${manifestDigest}`
  ) {
    res.writeHead(200, {
      "content-type": MediaType.OciManifest,
      "docker-content-digest": opts.headerDigest ?? manifestDigest,
    });
    return void res.end(opts.body ?? manifest);
  }
  if (url.pathname === `/v2/test/app/blobs/${blobDigest}`) {
    if (req.method === "HEAD") return void res.writeHead(200, { "content-length": blob.length }).end();
    return void res.writeHead(307, { location: `http://${host()}/data/${blobDigest}` }).end();
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
}

async function startRegistry(opts: RegistryOptions): Promise<Registry> {
  const log: string[] = [];
  let host = "";
  const server = createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    handle(opts, () => host, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, log, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let registry: Registry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
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

const creds = () => ({ username: "alice", password: "secret" });

describe("registry client", () => {
  it("fetches a manifest anonymously and verifies Docker-Content-Digest", async () => {
    registry = await startRegistry({ auth: "none" });
    const client = createRegistryClient();
    const got = await client.getManifest(parseReference(`${registry.host}/test/app:v1`), [
      MediaType.OciManifest,
    ]);
    expect(got.digest).toBe(manifestDigest);
    expect(got.mediaType).toBe(MediaType.OciManifest);
    expect(got.bytes.equals(manifest)).toBe(true);
  });

  it("runs the bearer token flow with credentials and caches the token", async () => {
    registry = await startRegistry({ auth: "bearer" });
    const client = createRegistryClient({ credentials: creds });
    const ref = parseReference(`${registry.host}/test/app:v1`);
    await client.getManifest(ref, [MediaType.OciManifest]);
    const { stream } = await client.getBlob(ref, blobDigest);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(blob)).toBe(true);
    expect((await client.headBlob(ref, blobDigest)).size).toBe(blob.length);
    expect(registry.log.filter((l) => l.startsWith("GET /token"))).toHaveLength(1);
    expect(registry.log.filter((l) => l.startsWith("GET /data/"))).toHaveLength(1);
  });

  it("answers a Basic challenge with credentials", async () => {
    registry = await startRegistry({ auth: "basic" });
    const client = createRegistryClient({ credentials: creds });
    const got = await client.getManifest(parseReference(`${registry.host}/test/app:v1`), [
      MediaType.OciManifest,
    ]);
    expect(got.digest).toBe(manifestDigest);
  });

  it("maps refusals to codes", async () => {
    registry = await startRegistry({ auth: "basic" });
    const ref = parseReference(`${registry.host}/test/app:v1`);
    expect(await codeOf(createRegistryClient().getManifest(ref, []))).toBe("Unauthenticated");
    const wrong = createRegistryClient({ credentials: () => ({ username: "alice", password: "no" }) });
    expect(await codeOf(wrong.getManifest(ref, []))).toBe("Unauthenticated");
    const authed = createRegistryClient({ credentials: creds });
    expect(await codeOf(authed.getManifest(parseReference(`${registry.host}/test/app:v2`), []))).toBe(
      "NotFound",
    );
    expect(await codeOf(authed.headBlob(ref, digestOf("nothing")))).toBe("NotFound");
  });

  it("refuses a manifest whose bytes do not match the digest", async () => {
    registry = await startRegistry({ auth: "none", body: Buffer.from('{"tampered":true}') });
    const client = createRegistryClient();
    expect(await codeOf(client.getManifest(parseReference(`${registry.host}/test/app:v1`), []))).toBe(
      "InvalidArgument",
    );
    const byDigest = parseReference(`${registry.host}/test/app@${manifestDigest}`);
    expect(await codeOf(client.getManifest(byDigest, []))).toBe("InvalidArgument");
  });

  it("reports an unreachable registry as Unavailable", async () => {
    registry = await startRegistry({ auth: "none" });
    const host = registry.host;
    await registry.close();
    registry = undefined;
    const client = createRegistryClient();
    expect(await codeOf(client.getManifest(parseReference(`${host}/test/app:v1`), []))).toBe("Unavailable");
  });
});

describe("auth helpers", () => {
  it("parses Bearer and Basic challenges", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="a:b,c:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      realm: "https://auth.docker.io/token",
      service: "registry.docker.io",
      scope: "a:b,c:pull",
    });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: "basic", realm: "x" });
    expect(parseChallenge("Negotiate")).toBeNull();
  });

  it("keeps a token per registry and scope until just before it expires", () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    cache.set("r.io", "repository:a:pull", "t1", 60);
    expect(cache.get("r.io", "repository:a:pull")).toBe("t1");
    expect(cache.get("r.io", "repository:b:pull")).toBeUndefined();
    expect(cache.get("s.io", "repository:a:pull")).toBeUndefined();
    now += 49_000;
    expect(cache.get("r.io", "repository:a:pull")).toBe("t1");
    now += 2_000;
    expect(cache.get("r.io", "repository:a:pull")).toBeUndefined();
  });

  it("sends Docker Hub to registry-1.docker.io", () => {
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("ghcr.io")).toBe("ghcr.io");
  });
});
