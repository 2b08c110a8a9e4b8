import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { digestOf } from "../digest/digest.ts";
import { isOciError } from "../errors.ts";
import { createRegistryClient } from "./client.ts";
import { MAX_REDIRECTS } from "./node-http.ts";

// Blob GETs go through node:http (node-http.ts): redirects, authentication,
// errors, stalls and connection reuse, against real HTTP servers on loopback.

const blob = Buffer.from("layer bytes ".repeat(50_000));
const digest = digestOf(blob);
const creds = () => ({ username: "alice", password: "secret" });
const basic = `Basic ${Buffer.from("alice:secret").toString("base64")}`;

interface Peer {
  host: string;
  /** `METHOD path authorization` per request. */
  log: string[];
  /** Accept-Encoding per request. */
  encodings: string[];
  connections: number;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, peer: Peer) => void,
): Promise<Peer> {
  const peer: Peer = { host: "", log: [], encodings: [], connections: 0 };
  const server = createServer((req, res) => {
    peer.log.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
    peer.encodings.push(req.headers["accept-encoding"] ?? "-");
    handler(req, res, peer);
  });
  server.on("connection", () => {
    peer.connections += 1;
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  peer.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return peer;
}

const blobPath = `/v2/test/app/blobs/${digest}`;
const repo = (host: string) => ({ registry: host, repository: "test/app" });

async function read(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isOciError(err)) return { code: err.code, message: err.message };
    return { code: "not an OciError", message: (err as Error).message };
  }
  throw new Error("expected a failure");
}

/** Basic auth on /v2/; the blob itself redirects to `target(peer)`. */
function basicRegistry(target: (peer: Peer) => string) {
  return (req: IncomingMessage, res: ServerResponse, peer: Peer) => {
    if (req.url?.startsWith("/data/"))
      return void res.writeHead(200, { "content-length": blob.length }).end(blob);
    if (req.headers.authorization !== basic) {
      return void res.writeHead(401, { "www-authenticate": 'Basic realm="test"' }).end();
    }
    res.writeHead(307, { location: target(peer) }).end();
  };
}

describe("blob downloads", () => {
  it("answers the challenge, follows a same-origin redirect with the credentials and reads the body", async () => {
    const registry = await serve(basicRegistry((p) => `http://${p.host}/data/${digest}`));
    const client = createRegistryClient({ credentials: creds });
    const { stream, size } = await client.getBlob(repo(registry.host), digest);
    expect(size).toBe(blob.length);
    expect((await read(stream)).equals(blob)).toBe(true);
    expect(registry.encodings).toEqual(["identity", "identity", "identity"]);
    expect(registry.log).toEqual([
      `GET ${blobPath} -`,
      `GET ${blobPath} ${basic}`,
      `GET /data/${digest} ${basic}`,
    ]);
  });

  it("drops the Authorization header on a redirect to another origin", async () => {
    const storage = await serve((_req, res) => void res.writeHead(200).end(blob));
    const registry = await serve(basicRegistry(() => `http://${storage.host}/bucket/${digest}?sig=1`));
    const client = createRegistryClient({ credentials: creds });
    const { stream } = await client.getBlob(repo(registry.host), digest);
    expect((await read(stream)).equals(blob)).toBe(true);
    expect(storage.log).toEqual([`GET /bucket/${digest}?sig=1 -`]);
  });

  it(`gives up after ${MAX_REDIRECTS} redirects`, async () => {
    const registry = await serve((req, res) => void res.writeHead(302, { location: `${req.url}x` }).end());
    const err = await failure(createRegistryClient().getBlob(repo(registry.host), digest));
    expect(err.code).toBe("Unavailable");
    expect(err.message).toMatch(/more than 20 redirects/);
    expect(registry.log).toHaveLength(MAX_REDIRECTS + 1);
  });

  it("maps a refusal to its code with the registry's error document", async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry" }] }));
    });
    const err = await failure(createRegistryClient().getBlob(repo(registry.host), digest));
    expect(err.code).toBe("NotFound");
    expect(err.message).toContain("BLOB_UNKNOWN: blob unknown to registry");
  });

  it("reports a registry that stops sending in the middle of a body", async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(200, { "content-length": blob.length });
      res.write(blob.subarray(0, 1000)); // and nothing more
    });
    const client = createRegistryClient({ idleTimeoutMs: 300 });
    const { stream } = await client.getBlob(repo(registry.host), digest);
    await expect(read(stream)).rejects.toThrow(/no data from 127\.0\.0\.1:\d+ for 0\.3 s/);
  });

  it("reports a registry that never answers", async () => {
    const registry = await serve(() => {});
    const err = await failure(
      createRegistryClient({ idleTimeoutMs: 300 }).getBlob(repo(registry.host), digest),
    );
    expect(err.code).toBe("Unavailable");
    expect(err.message).toMatch(/unreachable \(blob sha256:.*\): no data from/);
  });

  it("refuses a registry whose certificate it cannot verify", async () => {
    // A self-signed certificate for 127.0.0.1 (made with openssl req -x509, valid until 2126).
    const fixture = (name: string) => readFileSync(new URL(`__fixtures__/${name}`, import.meta.url));
    const server = createTlsServer(
      { key: fixture("self-signed.key"), cert: fixture("self-signed.crt") },
      (_r, res) => res.writeHead(200).end(blob),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = createRegistryClient({ insecure: () => false });
    const err = await failure(client.getBlob(repo(host), digest));
    expect(err.code).toBe("Unavailable");
    expect(err.message).toMatch(/self-signed certificate/);
  });

  it("reuses the connection for the next blob", async () => {
    const registry = await serve((_req, res) => void res.writeHead(200).end(blob));
    const client = createRegistryClient();
    for (let i = 0; i < 3; i++) {
      const { stream } = await client.getBlob(repo(registry.host), digest);
      expect((await read(stream)).length).toBe(blob.length);
    }
    expect(registry.log).toHaveLength(3);
    expect(registry.connections).toBe(1);
  });
});

describe("streamed uploads", () => {
  const uploads = "/v2/test/app/blobs/uploads/";
  /** The blob in pieces, as a file stream gives them. */
  const pieces = () =>
    (async function* () {
      for (let at = 0; at < blob.length; at += 100_000) yield blob.subarray(at, at + 100_000);
    })();

  it("sends the body again after the challenge and finishes the upload where the registry says", async () => {
    const received: Buffer[] = [];
    const registry = await serve(async (req, res) => {
      if (req.method === "POST") return void res.writeHead(202, { location: "/upload/1" }).end();
      if (req.headers.authorization !== basic) {
        req.resume();
        return void res.writeHead(401, { "www-authenticate": 'Basic realm="test"' }).end();
      }
      if (req.method === "PATCH") {
        received.push(await read(req));
        return void res.writeHead(202, { location: "/upload/1?part=2" }).end();
      }
      res.writeHead(201, { "docker-content-digest": digest }).end();
    });
    const client = createRegistryClient({ credentials: creds });
    const source = { digest, size: blob.length, open: pieces };
    expect(await client.uploadBlob(repo(registry.host), source, { method: "streamed" })).toBe("uploaded");
    expect(received).toHaveLength(1);
    expect(received[0]!.equals(blob)).toBe(true);
    expect(registry.log).toEqual([
      `POST ${uploads} -`,
      `PATCH /upload/1 -`,
      `PATCH /upload/1 ${basic}`,
      `PUT /upload/1?part=2&digest=${encodeURIComponent(digest)} ${basic}`,
    ]);
  });

  it("stops sending a body the registry answered before reading it", async () => {
    const big = Buffer.alloc(64 << 20, 1);
    const received: number[] = [];
    const registry = await serve((req, res) => {
      if (req.method === "POST") return void res.writeHead(202, { location: "/upload/1" }).end();
      const { socket } = req;
      socket.once("close", () => received.push(socket.bytesRead));
      res.writeHead(401, { "www-authenticate": 'Basic realm="test"' }).end();
    });
    const opened: number[] = [];
    const source = {
      digest: digestOf(big),
      size: big.length,
      open: async function* () {
        let sent = 0;
        opened.push(0);
        for (let at = 0; at < big.length; at += 1 << 20) {
          yield big.subarray(at, at + (1 << 20));
          sent += 1 << 20;
          opened[opened.length - 1] = sent;
          await new Promise((r) => setImmediate(r));
        }
      },
    };
    const err = await failure(createRegistryClient().uploadBlob(repo(registry.host), source));
    expect(err.code).toBe("Unauthenticated");
    await expect.poll(() => received.length).toBe(1);
    // What the client read from its blob, and what reached the registry, stopped well short of it.
    expect(opened).toHaveLength(1);
    expect(opened[0]).toBeLessThan(big.length / 2);
    expect(received[0]).toBeLessThan(big.length / 2);
  });

  it("maps a refusal sent before the body was read to its code", async () => {
    const registry = await serve((req, res) => {
      if (req.method === "POST") return void res.writeHead(202, { location: "/upload/1" }).end();
      res.writeHead(400, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ errors: [{ code: "SIZE_INVALID", message: "too big for us" }] }));
    });
    const big = { digest, size: blob.length, open: pieces };
    const err = await failure(createRegistryClient().uploadBlob(repo(registry.host), big));
    expect(err.code).toBe("InvalidArgument");
    expect(err.message).toContain("SIZE_INVALID: too big for us");
  });

  it("fails with the blob's own error when it cannot be read, and the registry sees the upload cut short", async () => {
    let cut = false;
    const registry = await serve((req, res) => {
      if (req.method === "POST") return void res.writeHead(202, { location: "/upload/1" }).end();
      req.on("error", () => {});
      req.on("close", () => {
        cut = !req.complete;
      });
      req.resume();
      req.on("end", () => res.writeHead(202, { location: "/upload/1" }).end());
    });
    const broken = {
      digest,
      size: blob.length,
      open: async function* () {
        yield blob.subarray(0, 100_000);
        await new Promise((r) => setTimeout(r, 100)); // the registry has begun to read
        throw Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
      },
    };
    const err = await createRegistryClient()
      .uploadBlob(repo(registry.host), broken)
      .catch((e: unknown) => e as NodeJS.ErrnoException);
    expect(err).toMatchObject({ code: "EIO", message: "EIO: i/o error, read" });
    await expect.poll(() => cut).toBe(true);
  });
});
