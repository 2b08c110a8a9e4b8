import { createHash, randomBytes } from "node:crypto";
import { chmod, link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import {
  createRegistryClient,
  MediaType,
  OciError,
  parseImageConfig,
  parseManifest,
  parseReference,
  type RegistryAccess,
  type RegistryClient,
  RegistryError,
} from "@berth/oci";
import { isBerthError } from "@berth/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  startTestRegistry,
  type TestRegistry,
} from "../../../../../packages/oci/src/registry/test-support.ts";
import { gzipLayerBlob, knownLayerBlobs } from "../layer-blob.ts";
import { legacyMembers, tarOf } from "../layout/__fixtures__/archive.ts";
import { loadImages } from "../layout/load.ts";
import { pullImage } from "../pull/pull.ts";
import { createImageStore, type ImageStore } from "../store.ts";
import type { PushEvent } from "./events.ts";
import { pushImage } from "./push.ts";

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

let work: string;
let reg: TestRegistry;
const client = createRegistryClient();

async function freshStore(name: string): Promise<ImageStore> {
  return createImageStore(path.join(work, name));
}

/** A small root filesystem: a script, a symlink, a hard link, an empty directory, a long name. */
async function makeTree(dir: string): Promise<string> {
  await mkdir(path.join(dir, "bin"), { recursive: true });
  await mkdir(path.join(dir, "var", "empty"), { recursive: true });
  await writeFile(path.join(dir, "bin", "tool"), "#!/bin/sh\necho tool\n");
  await chmod(path.join(dir, "bin", "tool"), 0o755);
  await link(path.join(dir, "bin", "tool"), path.join(dir, "bin", "tool2"));
  await symlink("tool", path.join(dir, "bin", "sh"));
  await writeFile(path.join(dir, "var", `${"long-name-".repeat(12)}.txt`), "x".repeat(5000));
  return dir;
}

function recorder() {
  const events: PushEvent[] = [];
  const statuses = () => events.flatMap((e) => (e.type === "layer" ? [e.status] : []));
  return { events, statuses, onProgress: (e: PushEvent) => events.push(e) };
}

async function remoteImage(ref: string) {
  const got = await client.getManifest(parseReference(ref), [MediaType.OciManifest]);
  const parsed = parseManifest(got.bytes, got.mediaType);
  if (parsed.kind !== "manifest") throw new Error("an index");
  const blob = async (digest: string) => {
    const { stream } = await client.getBlob(parseReference(ref), digest);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const config = parseImageConfig(await blob(parsed.manifest.config.digest));
  return { digest: got.digest, manifest: parsed.manifest, config, blob };
}

const uploads = (repo: string) => reg.requests.filter((r) => r.startsWith(`POST /v2/${repo}/blobs/uploads/`));

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "berth-push-"));
  reg = await startTestRegistry();
});
afterEach(async () => {
  await reg.close();
  await rm(work, { recursive: true, force: true });
});

describe("pushing an imported image", () => {
  it("uploads a gzip layer, config and manifest that pull back into a fresh store", async () => {
    const store = await freshStore("a");
    const record = await store.importDirectory(await makeTree(path.join(work, "tree")), {
      name: "tools:1",
      cmd: ["/bin/tool"],
      env: { MODE: "test" },
    });
    const progress = recorder();
    const ref = `${reg.host}/team/tools:1`;
    const result = await pushImage(store, "tools:1", ref, { client, onProgress: progress.onProgress });
    expect(result).toMatchObject({ name: ref, uploaded: 1 });
    expect(progress.statuses()).toEqual(["Preparing", "Pushing", "Pushed"]);
    expect(progress.events[0]).toEqual({ type: "start", repository: `${reg.host}/team/tools`, layers: 1 });
    expect(progress.events.at(-1)).toEqual({
      type: "done",
      tag: "1",
      digest: result.digest,
      size: result.size,
    });

    const remote = await remoteImage(ref);
    expect(remote.digest).toBe(result.digest);
    expect(remote.manifest.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerGzip]);
    const tar = gunzipSync(await remote.blob(remote.manifest.layers[0]!.digest));
    expect(remote.config.rootfs.diff_ids).toEqual([sha256(tar)]);
    expect(remote.config.config?.Cmd).toEqual(["/bin/tool"]);
    expect(remote.config.config?.Env).toContain("MODE=test");

    const other = await freshStore("b");
    const pulled = await pullImage(other, ref, { client });
    expect(pulled.digest).toBe(result.digest);
    expect(pulled.record.config).toEqual(record.config);
    const dir = (await other.resolve(ref)).layerDirs[0]!;
    expect(await readFile(path.join(dir, "bin", "tool2"), "utf8")).toBe("#!/bin/sh\necho tool\n");
    expect(await readFile(path.join(dir, "var", `${"long-name-".repeat(12)}.txt`), "utf8")).toHaveLength(
      5000,
    );
  });

  it("pushes the same image again without uploading, to the same digest", async () => {
    const store = await freshStore("a");
    await store.importDirectory(await makeTree(path.join(work, "tree")), { name: "tools" });
    const first = await pushImage(store, "tools", `${reg.host}/team/tools`, { client });
    const before = uploads("team/tools").length;
    const progress = recorder();
    const again = await pushImage(store, "tools", `${reg.host}/team/tools`, {
      client,
      onProgress: progress.onProgress,
    });
    expect(again.digest).toBe(first.digest);
    expect(again.uploaded).toBe(0);
    expect(progress.statuses()).toEqual(["Preparing", "Layer already exists"]);
    expect(uploads("team/tools").length).toBe(before);
  });

  it("mounts a layer the registry holds in another repository (pushed or pulled from there)", async () => {
    const store = await freshStore("a");
    await store.importDirectory(await makeTree(path.join(work, "tree")), { name: "tools" });
    await pushImage(store, "tools", `${reg.host}/team/base:1`, { client });
    const progress = recorder();
    const result = await pushImage(store, "tools", `${reg.host}/team/app:1`, {
      client,
      onProgress: progress.onProgress,
    });
    expect(progress.statuses()).toEqual(["Preparing", "Mounted from team/base"]);
    expect(result.uploaded).toBe(0);

    // A store that pulled the image mounts the very blob it pulled.
    const other = await freshStore("b");
    await pullImage(other, `${reg.host}/team/app:1`, { client });
    const second = recorder();
    const pushed = await pushImage(other, `${reg.host}/team/app:1`, `${reg.host}/team/copy:1`, {
      client,
      onProgress: second.onProgress,
    });
    expect(second.statuses()).toEqual(["Preparing", "Mounted from team/app"]);
    expect(pushed.digest).toBe(result.digest);
  });

  it("sends a layer loaded from Docker's old format (kept uncompressed) as gzip of the same tar", async () => {
    const store = await freshStore("a");
    const layer = tarOf([
      { name: "etc/", type: "directory" },
      { name: "etc/motd", data: "hello from an old docker save\n".repeat(200) },
    ]);
    await loadImages(store, Readable.from([tarOf(legacyMembers({ layers: [layer] }))]));
    const local = await store.inspect("legacy:1");
    const ref = `${reg.host}/team/legacy:1`;
    const first = await pushImage(store, "legacy:1", ref, { client });
    expect(first.uploaded).toBe(1);
    const remote = await remoteImage(ref);
    expect(remote.manifest.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerGzip]);
    const blob = await remote.blob(remote.manifest.layers[0]!.digest);
    expect(blob.length).toBeLessThan(layer.length / 4); // sent compressed
    expect(gunzipSync(blob).equals(layer)).toBe(true); // the very tar that was loaded
    // Same diff IDs, so the original config went as it was; the manifest is new.
    expect(remote.config.rootfs.diff_ids).toEqual([sha256(layer)]);
    expect(remote.manifest.config.digest).toBe(local.content?.config);
    expect(remote.digest).not.toBe(local.digest);
    // Again: nothing uploaded, the same manifest.
    const again = await pushImage(store, "legacy:1", ref, { client });
    expect(again).toMatchObject({ digest: first.digest, uploaded: 0 });
    // And it pulls back into a fresh store as the same layer.
    const other = await freshStore("b");
    const pulled = await pullImage(other, ref, { client });
    expect(pulled.record.layers).toEqual([sha256(layer)]);
  });

  it("stops the other uploads when one fails, and throws the first failure", async () => {
    const store = await freshStore("a");
    // Two incompressible layers of 4 MiB: each upload reads its blob in several 1 MiB chunks.
    const layers = [0, 1].map((i) => tarOf([{ name: `f${i}`, data: randomBytes(4 << 20) }]));
    await loadImages(store, Readable.from([tarOf(legacyMembers({ layers }))]));
    const outcomes: string[] = [];
    let first = true;
    const failing: RegistryClient = {
      ...client,
      blobExists: async () => null,
      mountBlob: async () => false,
      async uploadBlob(_repo, blob) {
        if (first) {
          first = false;
          // The second layer's upload has started by now.
          await new Promise((r) => setTimeout(r, 50));
          throw new OciError("Unavailable", "the registry fell over");
        }
        try {
          // A slow upload: a chunk per 200 ms, some 800 ms for the whole blob.
          for await (const _ of blob.open() as AsyncIterable<Uint8Array>)
            await new Promise((r) => setTimeout(r, 200));
          outcomes.push("completed");
        } catch (err) {
          outcomes.push((err as Error).name);
          throw err;
        }
        return "uploaded";
      },
    };
    const err = await pushImage(store, "legacy:1", `${reg.host}/team/legacy:1`, { client: failing }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain("the registry fell over");
    expect(outcomes).toEqual(["AbortError"]);
  });

  it("makes the same gzip blob from a layer every time", async () => {
    const store = await freshStore("a");
    const record = await store.importDirectory(await makeTree(path.join(work, "tree")), { name: "tools" });
    const a = await gzipLayerBlob(store, record.layers[0]!);
    const b = await gzipLayerBlob(store, record.layers[0]!);
    expect(b.digest).toBe(a.digest);
    expect((await readFile(b.file)).equals(await readFile(a.file))).toBe(true);
    expect(sha256(gunzipSync(await readFile(a.file)))).toBe(a.diffId);
    expect((await knownLayerBlobs(store, record.layers[0]!)).map((x) => x.digest)).toEqual([a.digest]);
  });

  it("refuses a digest target, an unknown image, and a registry that wants credentials", async () => {
    const store = await freshStore("a");
    await store.importDirectory(await makeTree(path.join(work, "tree")), { name: "tools" });
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "none",
        (e: unknown) => (isBerthError(e) ? e.code : String(e)),
      );
    const digest = `sha256:${"a".repeat(64)}`;
    expect(await codeOf(pushImage(store, "tools", `${reg.host}/team/x@${digest}`, { client }))).toBe(
      "InvalidArgument",
    );
    expect(await codeOf(pushImage(store, "nothing", `${reg.host}/team/x`, { client }))).toBe("NotFound");
    const locked = await startTestRegistry({
      authorize: async (_req, access: RegistryAccess) => {
        if (access.action === "push")
          throw new RegistryError("UNAUTHORIZED", "log in", {
            headers: { "WWW-Authenticate": 'Basic realm="x"' },
          });
      },
    });
    try {
      expect(await codeOf(pushImage(store, "tools", `${locked.host}/team/x`, { client }))).toBe(
        "Unauthenticated",
      );
    } finally {
      await locked.close();
    }
  });
});
