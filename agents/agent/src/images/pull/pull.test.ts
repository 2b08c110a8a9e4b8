import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { MediaType, OciError, type RegistryClient } from "@berth/oci";
import { isBerthError } from "@berth/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { runProgram } from "../../exec.ts";
import { createImageStore, type ImageStore } from "../store.ts";
import { hostPlatform, parsePlatform, selectManifest, toImageConfig } from "./platform.ts";
import { pullImage } from "./pull.ts";

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const dirs: string[] = [];

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "berth-pull-unit-"));
  dirs.push(dir);
  return dir;
}

/** GNU tar of the directory `root` (names sorted, owned by root), as a layer. */
async function tarOfDir(root: string): Promise<Buffer> {
  const out = path.join(path.dirname(root), "l.tar");
  await runProgram("tar", ["--sort=name", "--owner=0", "--group=0", "-C", root, "-cf", out, "."]);
  return readFile(out);
}

async function layerTar(files: Record<string, string>): Promise<Buffer> {
  const work = await tempDir();
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(work, "root", name)), { recursive: true });
    await writeFile(path.join(work, "root", name), content);
  }
  return tarOfDir(path.join(work, "root"));
}

/** An in-memory registry: blobs by digest, manifests by tag or digest. */
function fakeClient(
  blobs: Map<string, Buffer>,
  manifests: Map<string, { mediaType: string; bytes: Buffer }>,
  serve?: (digest: string) => Buffer,
): RegistryClient {
  return {
    async getManifest(ref) {
      const m = manifests.get(ref.digest ?? ref.tag ?? "");
      if (!m) throw new OciError("NotFound", "manifest unknown");
      return { digest: sha256(m.bytes), mediaType: m.mediaType, bytes: m.bytes };
    },
    async getBlob(_repo, digest) {
      const b = serve?.(digest) ?? blobs.get(digest);
      if (!b) throw new OciError("NotFound", "blob unknown");
      return { stream: Readable.from([b]), size: b.length };
    },
    async headBlob(_repo, digest) {
      return { digest, size: blobs.get(digest)?.length ?? 0 };
    },
    ...pushUnsupported,
  };
}

const refused = () => Promise.reject(new OciError("PermissionDenied", "a pull does not push"));
const pushUnsupported = {
  blobExists: refused,
  pushBlob: refused,
  mountBlob: refused,
  uploadBlob: refused,
  putManifest: refused,
};

interface Fixture {
  client: RegistryClient;
  store: ImageStore;
  layerDigest: string;
  manifestDigest: string;
}

async function fixture(
  opts: {
    diffId?: string;
    layerMediaType?: string;
    index?: boolean;
    serve?: (d: string) => Buffer;
    /** A second layer, whose download sends half its bytes and then hangs until destroyed. */
    stalledLayer?: boolean;
    /** The layer's tar (else one holding hello.txt). */
    tar?: Buffer;
  } = {},
): Promise<Fixture & { stalled: { destroyed: boolean } }> {
  const tar = opts.tar ?? (await layerTar({ "hello.txt": "hi\n" }));
  const layer = gzipSync(tar);
  const secondTar = await layerTar({ "second.txt": "2".repeat(100_000) });
  const second = gzipSync(secondTar);
  const config = json({
    architecture: hostPlatform().architecture,
    os: "linux",
    config: { Cmd: ["/hello"], User: "65534" },
    rootfs: {
      type: "layers",
      diff_ids: [opts.diffId ?? sha256(tar), ...(opts.stalledLayer ? [sha256(secondTar)] : [])],
    },
  });
  const manifest = json({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: sha256(config), size: config.length },
    layers: [
      { mediaType: opts.layerMediaType ?? MediaType.OciLayerGzip, digest: sha256(layer), size: layer.length },
      ...(opts.stalledLayer
        ? [{ mediaType: MediaType.OciLayerGzip, digest: sha256(second), size: second.length }]
        : []),
    ],
  });
  const blobs = new Map([
    [sha256(layer), layer],
    [sha256(config), config],
  ]);
  const manifests = new Map<string, { mediaType: string; bytes: Buffer }>([
    [sha256(manifest), { mediaType: MediaType.OciManifest, bytes: manifest }],
  ]);
  const entry = (architecture: string, digest: string) => ({
    mediaType: MediaType.OciManifest,
    digest,
    size: manifest.length,
    platform: { os: "linux", architecture },
  });
  const top = opts.index
    ? {
        mediaType: MediaType.OciIndex,
        bytes: json({
          schemaVersion: 2,
          mediaType: MediaType.OciIndex,
          manifests: [entry("s390x", sha256(json({}))), entry(hostPlatform().architecture, sha256(manifest))],
        }),
      }
    : { mediaType: MediaType.OciManifest, bytes: manifest };
  manifests.set("1", top);
  const client = fakeClient(blobs, manifests, opts.serve);
  const stalled = { destroyed: false };
  if (opts.stalledLayer) {
    const getBlob = client.getBlob.bind(client);
    client.getBlob = async (repo, digest) => {
      if (digest !== sha256(second)) return getBlob(repo, digest);
      const stream = new Readable({ read() {} });
      stream.push(second.subarray(0, second.length >> 1));
      stream.on("close", () => {
        stalled.destroyed = true;
      });
      return { stream, size: second.length };
    };
  }
  return {
    stalled,
    client,
    store: createImageStore(await tempDir()),
    layerDigest: sha256(layer),
    manifestDigest: sha256(manifest),
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  return isBerthError(err) ? err.code : `not a BerthError: ${String(err)}`;
}

async function expectNothingLeft(store: ImageStore): Promise<void> {
  expect(await readdir(path.join(store.root, "layers", "sha256")).catch(() => [])).toEqual([]);
  expect(await readdir(store.tempDir).catch(() => [])).toEqual([]);
  expect(await store.list()).toEqual([]);
}

describe("pullImage", () => {
  it("follows an index to this host's platform", async () => {
    const f = await fixture({ index: true });
    const result = await pullImage(f.store, "registry.test/app:1", { client: f.client });
    expect(result.record.digest).toBe(f.manifestDigest);
    expect(result.digest).not.toBe(f.manifestDigest);
    expect(result.record.config).toMatchObject({
      cmd: ["/hello"],
      user: "65534",
      env: [expect.stringMatching(/^PATH=/)],
    });
    const resolved = await f.store.resolve("registry.test/app:1");
    expect(await readFile(path.join(resolved.layerDirs[0]!, "hello.txt"), "utf8")).toBe("hi\n");
  });

  it("refuses an index without the platform", async () => {
    const f = await fixture({ index: true });
    const platform = parsePlatform("linux/mips64le");
    expect(await codeOf(pullImage(f.store, "registry.test/app:1", { client: f.client, platform }))).toBe(
      "NotFound",
    );
  });

  it("refuses a layer whose bytes do not match its digest and keeps nothing", async () => {
    const other = gzipSync(await layerTar({ "evil.txt": "x" }));
    let layerDigest = "";
    const f = await fixture({ serve: (d) => (d === layerDigest ? other : (undefined as unknown as Buffer)) });
    layerDigest = f.layerDigest;
    expect(await codeOf(pullImage(f.store, "registry.test/app:1", { client: f.client }))).toBe(
      "InvalidArgument",
    );
    await expectNothingLeft(f.store);
  });

  it("stops the other layers' downloads when one fails, and keeps nothing", async () => {
    const other = gzipSync(await layerTar({ "evil.txt": "x" }));
    let layerDigest = "";
    const f = await fixture({
      stalledLayer: true,
      serve: (d) => (d === layerDigest ? other : (undefined as unknown as Buffer)),
    });
    layerDigest = f.layerDigest;
    // Without the stop, the pull would wait for ever for the hanging layer.
    expect(await codeOf(pullImage(f.store, "registry.test/app:1", { client: f.client }))).toBe(
      "InvalidArgument",
    );
    expect(f.stalled.destroyed).toBe(true);
    await expectNothingLeft(f.store);
  });

  it("refuses a layer longer than its descriptor says and keeps nothing", async () => {
    let layerDigest = "";
    let served = Buffer.alloc(0);
    const f = await fixture({
      serve: (d) => (d === layerDigest ? served : (undefined as unknown as Buffer)),
    });
    layerDigest = f.layerDigest;
    served = Buffer.alloc(1024 * 1024);
    expect(await codeOf(pullImage(f.store, "registry.test/app:1", { client: f.client }))).toBe(
      "InvalidArgument",
    );
    await expectNothingLeft(f.store);
  });

  it("refuses a layer whose diff ID is not the config's and keeps nothing", async () => {
    const f = await fixture({ diffId: sha256(Buffer.from("something else")) });
    expect(await codeOf(pullImage(f.store, "registry.test/app:1", { client: f.client }))).toBe(
      "InvalidArgument",
    );
    await expectNothingLeft(f.store);
  });

  it("refuses a layer with a file name that is not UTF-8, naming its bytes, and keeps nothing", async () => {
    // GNU tar of a directory holding Latin-1 "café": unpacked, Node would write the name as UTF-8.
    const root = path.join(await tempDir(), "root");
    await mkdir(root);
    await writeFile(Buffer.from(`${root}/caf\xe9`, "latin1"), "x");
    const f = await fixture({ tar: await tarOfDir(root) });
    const err = await pullImage(f.store, "registry.test/app:1", { client: f.client }).catch(
      (e: unknown) => e,
    );
    expect(isBerthError(err) && err.code).toBe("InvalidArgument");
    expect(String((err as Error).message)).toMatch(
      /^layer sha256:[0-9a-f]{64}: file name ".\/caf\uFFFD" is not UTF-8 \(bytes 2e2f636166e9\)/,
    );
    await expectNothingLeft(f.store);
  });

  it("refuses layer media types it cannot unpack", async () => {
    const f = await fixture({ layerMediaType: MediaType.OciLayerZstd });
    expect(await codeOf(pullImage(f.store, "registry.test/app:1", { client: f.client }))).toBe(
      "InvalidArgument",
    );
  });

  it("passes the registry's NotFound through", async () => {
    const f = await fixture();
    expect(await codeOf(pullImage(f.store, "registry.test/app:2", { client: f.client }))).toBe("NotFound");
  });
});

describe("platform and config", () => {
  it("prefers the asked-for variant", () => {
    const m = (variant: string) => ({
      mediaType: MediaType.OciManifest,
      digest: sha256(Buffer.from(variant)),
      size: 1,
      platform: { os: "linux", architecture: "arm", variant },
    });
    expect(selectManifest([m("v6"), m("v7")], parsePlatform("linux/arm/v7"), "x").platform?.variant).toBe(
      "v7",
    );
  });

  it("maps the OCI config and keeps the image's PATH", () => {
    const base = { architecture: "amd64", os: "linux", rootfs: { type: "layers" as const, diff_ids: [] } };
    expect(
      toImageConfig({ ...base, config: { Env: ["PATH=/x"], Entrypoint: ["/e"], WorkingDir: "/w" } }),
    ).toEqual({
      env: ["PATH=/x"],
      cmd: null,
      entrypoint: ["/e"],
      workdir: "/w",
      user: null,
    });
    expect(toImageConfig(base).env[0]).toMatch(/^PATH=\/usr\/local\/sbin/);
  });
});
