import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { createRegistryClient, MediaType, parseReference } from "@berth/oci";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  imageManifest,
  pushBlob,
  putManifest,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "../../../../packages/oci/src/registry/test-support.ts";
import { runProgram } from "../exec.ts";
import { createImageStore, DEFAULT_IMAGE_PATH, type ImageStore, pullImage } from "../images/index.ts";
import { pushImage } from "../images/push/push.ts";
import { stateFromImage, toStoreConfig } from "./base.ts";
import { commitImage } from "./commit.ts";
import type { BuildState } from "./image-config.ts";
import { type BuildBlobs, commitLayer, createBuildBlobs } from "./layer/blobs.ts";

// A built image in the store's content: pushed with its history, and with its base's layers as pulled.

const client = createRegistryClient();
let work: string;
let reg: TestRegistry;
let store: ImageStore;
let blobs: BuildBlobs;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "berth-commit-"));
  reg = await startTestRegistry();
  store = createImageStore(path.join(work, "state"));
  blobs = createBuildBlobs(path.join(work, "state"));
});
afterEach(async () => {
  await reg.close();
  await rm(work, { recursive: true, force: true });
});

async function remote(ref: string) {
  const got = await client.getManifest(parseReference(ref), [MediaType.OciManifest]);
  const manifest = JSON.parse(got.bytes.toString("utf8"));
  const { stream } = await client.getBlob(parseReference(ref), manifest.config.digest);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { digest: got.digest, manifest, config: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
}

/** A base image in the registry: one gzip layer made by GNU tar (bytes Berth would not make). */
async function publishBase(): Promise<{ ref: string; layer: Buffer }> {
  const dir = path.join(work, "base");
  await mkdir(path.join(dir, "etc"), { recursive: true });
  await writeFile(path.join(dir, "etc", "os-release"), "ID=base\n");
  await runProgram("tar", ["--create", "--file", `${dir}.tar`, "--directory", dir, "."]);
  const tar = await readFile(`${dir}.tar`);
  const layer = gzipSync(tar, { level: 9 });
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/bin"], Cmd: ["/bin/sh"] },
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
      history: [{ created_by: "base" }],
    }),
  );
  for (const blob of [config, layer]) await pushBlob(reg.url, "lib/base", blob);
  const res = await putManifest(reg.url, "lib/base", "1", imageManifest(config, [layer]));
  if (res.status !== 201) throw new Error(`pushing the base: ${res.status}`);
  return { ref: `${reg.host}/lib/base:1`, layer };
}

/** A base pulled into the store and a build state of it plus one layer of its own. */
async function builtOnBase() {
  const base = await publishBase();
  const pulled = await pullImage(store, base.ref, { client });
  const start = await stateFromImage(pulled.record, blobs, store);
  const step = path.join(work, "step");
  await mkdir(path.join(step, "app"), { recursive: true });
  await writeFile(path.join(step, "app", "main.sh"), "echo hi\n");
  const layer = await commitLayer(step, {}, blobs, store);
  const state: BuildState = {
    layers: [...start.layers, layer!.diffId],
    config: { ...start.config, Cmd: ["/app/main.sh"], Labels: { tier: "web" } },
    history: [
      ...start.history,
      { created: "2025-01-02T03:04:05Z", created_by: "COPY main.sh /app/" },
      { created: "2025-01-02T03:04:06Z", created_by: 'CMD ["/app/main.sh"]', empty_layer: true },
    ],
  };
  return {
    base,
    state,
    layer: layer!,
    commit: (s: ImageStore = store) =>
      commitImage({
        state,
        tags: ["web:1"],
        store: s,
        blobs,
        storeConfig: toStoreConfig(state.config, DEFAULT_IMAGE_PATH),
      }),
  };
}

describe("committing leases the base's kept blobs", () => {
  it("a prune during the commit, with the base image gone, cannot take the blob the manifest names", async () => {
    const { base, commit } = await builtOnBase();
    const racing: ImageStore = {
      ...store,
      async addImage(...args) {
        await store.remove(base.ref, { inUse: () => false });
        await store.prune({ all: true, usedImages: async () => [] });
        return store.addImage(...args);
      },
    };
    await commit(racing);
    const record = await store.inspect("web:1");
    expect(record.content?.layerBlobs[0]).toBe(sha256(base.layer));
    for (const digest of record.content!.layerBlobs) expect(await store.blobs.has(digest)).toBe(true);
  });

  it("a base blob pruned before the commit is replaced by one the build makes from the layer", async () => {
    const { base, commit } = await builtOnBase();
    await store.blobs.remove([sha256(base.layer)]);
    await commit();
    const record = await store.inspect("web:1");
    expect(record.content?.layerBlobs[0]).not.toBe(sha256(base.layer));
    for (const digest of record.content!.layerBlobs) expect(await store.blobs.has(digest)).toBe(true);
    const pushed = await pushImage(store, "web:1", `${reg.host}/team/web:2`, { client });
    expect((await remote(`${reg.host}/team/web:2`)).digest).toBe(pushed.digest);
  });
});

describe("a built image in the content store", () => {
  it("is pushed with its history and created time, under the digest it was built with, its base's layer unchanged", async () => {
    const { base, layer, commit } = await builtOnBase();
    const built = await commit();
    const record = await store.inspect("web:1");
    expect(record.content?.layerBlobs).toEqual([sha256(base.layer), layer.digest]);

    const pushed = await pushImage(store, "web:1", `${reg.host}/team/web:1`, { client });
    expect(pushed.digest).toBe(built.digest);
    const got = await remote(`${reg.host}/team/web:1`);
    expect(got.manifest.layers.map((l: { digest: string }) => l.digest)).toEqual([
      sha256(base.layer),
      layer.digest,
    ]);
    expect(got.config.created).toBe("2025-01-02T03:04:06Z");
    expect(got.config.history.map((h: { created_by: string }) => h.created_by)).toEqual([
      "base",
      "COPY main.sh /app/",
      'CMD ["/app/main.sh"]',
    ]);
    expect(got.config.config.Labels).toEqual({ tier: "web" });
  });
});

describe("a step's layer", () => {
  /** A step's upper dir: a big file first (so gzip and the unpacker are under way), then more. */
  async function stepDir(): Promise<string> {
    const step = path.join(work, "step");
    await mkdir(path.join(step, "srv"), { recursive: true });
    await writeFile(path.join(step, "a-big"), randomBytes(4 << 20));
    await writeFile(path.join(step, "srv", "boom"), "the last entry");
    return step;
  }

  it("is tarred once into its blob and the store: the blob gunzips to the tar of the diff ID, the layer to the tree", async () => {
    const step = await stepDir();
    const layer = (await commitLayer(step, {}, blobs, store))!;
    const blob = await readFile(blobs.blobPath(layer.digest));
    expect(sha256(blob)).toBe(layer.digest);
    expect(layer.size).toBe(blob.length);
    expect(sha256(gunzipSync(blob))).toBe(layer.diffId);
    const unpacked = store.layerPath(layer.diffId);
    expect(
      (await readFile(path.join(unpacked, "a-big"))).equals(await readFile(path.join(step, "a-big"))),
    ).toBe(true);
    expect(await readFile(path.join(unpacked, "srv", "boom"), "utf8")).toBe("the last entry");
    expect(await blobs.layerBlob(layer.diffId)).toEqual(layer);
  });

  it("the store refuses (a link out of the root, first) fails with the refusal, leaving nothing", async () => {
    const step = await stepDir();
    await symlink("../../../outside", path.join(step, "0-link"));
    await expect(commitLayer(step, {}, blobs, store)).rejects.toMatchObject({
      code: "InvalidArgument",
      message: expect.stringContaining('"0-link": symlink target "../../../outside" points outside the root'),
    });
    expect(await readdir(blobs.tempDir)).toEqual([]);
    expect(await readdir(store.tempDir)).toEqual([]);
  });

  it("that fails part-way leaves no blob, no layer and no temp file", async () => {
    const step = await stepDir();
    const exclude = (rel: string) => {
      if (rel === "srv/boom") throw new Error("the tree changed under the tar");
      return false;
    };
    await expect(commitLayer(step, { exclude }, blobs, store)).rejects.toThrow(
      "the tree changed under the tar",
    );
    expect(await readdir(blobs.tempDir)).toEqual([]);
    expect(await readdir(store.tempDir)).toEqual([]);
    expect(await readdir(path.dirname(blobs.blobPath("sha256:0")))).toEqual([]);
    expect(await readdir(path.join(work, "state", "images", "layers")).catch(() => [])).toEqual([]);
  });
});
