import type { IncomingMessage } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digestOf } from "../digest/digest.ts";
import { isOciError } from "../errors.ts";
import { MediaType } from "../manifest/media-types.ts";
import { parseReference } from "../ref/reference.ts";
import type { RegistryAccess } from "../registry/context.ts";
import { RegistryError } from "../registry/errors.ts";
import { imageManifest, startTestRegistry, type TestRegistry } from "../registry/test-support.ts";
import { createRegistryClient } from "./client.ts";

// The client's push against Berth's own registry handlers (Basic auth, as the control plane accepts it).

const BASIC = `Basic ${Buffer.from("alice:secret").toString("base64")}`;
let reg: TestRegistry;
const asked: string[] = [];

function authorize(req: IncomingMessage, access: RegistryAccess): Promise<void> {
  asked.push(`${access.action} ${access.repository}`);
  if (req.headers.authorization !== BASIC) {
    throw new RegistryError("UNAUTHORIZED", "log in", { headers: { "WWW-Authenticate": 'Basic realm="t"' } });
  }
  if (access.action === "pull" && access.repository === "secret/base") {
    throw new RegistryError("DENIED", "no");
  }
  return Promise.resolve();
}

beforeEach(async () => {
  asked.length = 0;
  reg = await startTestRegistry({ authorize: async (req, access) => authorize(req, access) });
});
afterEach(async () => {
  await reg.close();
});

const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { diff_ids: [] } }));
const layer = Buffer.alloc(2 * 1024 * 1024 + 3, "layer");
const source = (data: Buffer) => ({
  digest: digestOf(data),
  size: data.length,
  open: async function* () {
    for (let i = 0; i < data.length; i += 100_000) yield data.subarray(i, i + 100_000);
  },
});
const client = () => createRegistryClient({ credentials: () => ({ username: "alice", password: "secret" }) });

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

describe("push to Berth's registry handlers", () => {
  it("pushes config, layer and manifest, and pulls them back identical", async () => {
    const c = client();
    const repo = { registry: reg.host, repository: "team/app" };
    expect(await c.pushBlob(repo, source(config))).toBe("uploaded");
    expect(await c.pushBlob(repo, source(layer))).toBe("uploaded");
    expect(await c.pushBlob(repo, source(layer))).toBe("exists");
    const manifest = imageManifest(config, [layer]);
    const ref = parseReference(`${reg.host}/team/app:1`);
    expect(await c.putManifest(ref, MediaType.OciManifest, manifest)).toBe(digestOf(manifest));
    expect(reg.requests.filter((r) => r.startsWith("PATCH "))).toHaveLength(1);

    const got = await c.getManifest(ref, [MediaType.OciManifest]);
    expect(got.bytes.equals(manifest)).toBe(true);
    const { stream } = await c.getBlob(repo, digestOf(layer));
    expect((await readAll(stream)).equals(layer)).toBe(true);
  });

  it("mounts from a readable repository and uploads when the source may not be read", async () => {
    const c = client();
    await c.pushBlob({ registry: reg.host, repository: "team/base" }, source(layer));
    await reg.blobs.put(digestOf(config), config); // in a repository the caller may not read
    await reg.metadata.linkBlob("secret/base", digestOf(config));
    const app = { registry: reg.host, repository: "team/app" };
    expect(await c.pushBlob(app, source(layer), { mountFrom: "team/base" })).toBe("mounted");
    expect(await c.pushBlob(app, source(config), { mountFrom: "secret/base" })).toBe("uploaded");
    expect(asked).toContain("pull secret/base");
    expect(await c.blobExists(app, digestOf(config))).toBe(config.length);
  });

  it("a wrong digest is refused and stores nothing; a manifest naming a missing blob is NotFound", async () => {
    const c = client();
    const repo = { registry: reg.host, repository: "team/app" };
    const lying = { ...source(layer), digest: digestOf("not the layer") };
    const err = await c.uploadBlob(repo, lying).catch((e: unknown) => e);
    expect(isOciError(err) && err.code).toBe("InvalidArgument");
    expect(await reg.blobs.exists(lying.digest)).toBe(false);
    const manifest = imageManifest(config, [layer]);
    const put = await c
      .putManifest(parseReference(`${reg.host}/team/app:1`), MediaType.OciManifest, manifest)
      .catch((e: unknown) => e);
    expect(isOciError(put) && put.code).toBe("NotFound");
  });

  it("without credentials a push is Unauthenticated", async () => {
    const err = await createRegistryClient()
      .pushBlob({ registry: reg.host, repository: "team/app" }, source(config))
      .catch((e: unknown) => e);
    expect(isOciError(err) && err.code).toBe("Unauthenticated");
  });
});
