import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { ByteSource, createRegistryClient, MediaType, parseReference, readTar } from "@berth/oci";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  pushBlob,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "../../../../packages/oci/src/registry/test-support.ts";
import { runProgram } from "../exec.ts";
import { loadImages } from "./layout/load.ts";
import { saveImages } from "./layout/save.ts";
import { pullImage } from "./pull/pull.ts";
import { pushImage } from "./push/push.ts";
import { createImageStore, type ImageStore } from "./store.ts";

// The content store: what was pulled goes out again byte for byte (push, save), and prune collects
// blobs no image names.

const client = createRegistryClient();
let work: string;
let source: TestRegistry;
let target: TestRegistry;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "berth-content-"));
  [source, target] = await Promise.all([startTestRegistry(), startTestRegistry()]);
});
afterEach(async () => {
  await Promise.all([source.close(), target.close()]);
  await rm(work, { recursive: true, force: true });
});

/** A gzip layer made by GNU tar (its own header layout, not Berth's): a file and a directory. */
async function gnuLayer(name: string, text: string): Promise<{ blob: Buffer; diffId: string }> {
  const dir = path.join(work, `tree-${name}`);
  await mkdir(path.join(dir, "srv", name), { recursive: true });
  await writeFile(path.join(dir, "srv", name, "data.txt"), text);
  const tar = path.join(work, `${name}.tar`);
  await runProgram("tar", ["--create", "--file", tar, "--directory", dir, "--format=gnu", "."]);
  const bytes = await readFile(tar);
  return { blob: gzipSync(bytes, { level: 9 }), diffId: sha256(bytes) };
}

/**
 * A Docker schema-2 image with what the store's own config leaves out (labels, history, exposed
 * ports, healthcheck, created), its JSON indented, so only the original bytes give its digests.
 */
async function publishImage(registry: TestRegistry, repo: string, tag: string) {
  const layers = [await gnuLayer("a", "first"), await gnuLayer("b", "second layer")];
  const config = Buffer.from(
    JSON.stringify(
      {
        architecture: "amd64",
        os: "linux",
        created: "2024-05-01T10:00:00.123456789Z",
        config: {
          Env: ["PATH=/usr/bin:/bin"],
          Cmd: ["/bin/sh"],
          Labels: { "org.example.team": "shop" },
          ExposedPorts: { "8080/tcp": {} },
          Healthcheck: { Test: ["CMD", "true"], Interval: 5_000_000_000 },
        },
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
        history: [{ created_by: "ADD a" }, { created_by: "ADD b" }],
      },
      null,
      3,
    ),
  );
  for (const blob of [config, ...layers.map((l) => l.blob)]) await pushBlob(registry.url, repo, blob);
  const manifest = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: MediaType.DockerManifest,
        config: { mediaType: MediaType.DockerConfig, digest: sha256(config), size: config.length },
        layers: layers.map((l) => ({
          mediaType: MediaType.DockerLayerGzip,
          digest: sha256(l.blob),
          size: l.blob.length,
        })),
      },
      null,
      2,
    ),
  );
  const ref = `${registry.host}/${repo}:${tag}`;
  await client.putManifest(parseReference(ref), MediaType.DockerManifest, manifest);
  return { ref, digest: sha256(manifest), config, configDigest: sha256(config), layers };
}

async function remote(ref: string) {
  const got = await client.getManifest(parseReference(ref), [
    MediaType.OciManifest,
    MediaType.DockerManifest,
  ]);
  const manifest = JSON.parse(got.bytes.toString("utf8"));
  const { stream } = await client.getBlob(parseReference(ref), manifest.config.digest);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { digest: got.digest, mediaType: got.mediaType, manifest, config: Buffer.concat(chunks) };
}

async function saveToBuffer(store: ImageStore, refs: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk as Buffer);
      done();
    },
  });
  await saveImages(store, refs, sink);
  return Buffer.concat(chunks);
}

async function archiveMembers(archive: Buffer): Promise<Map<string, Buffer>> {
  const source = new ByteSource(Readable.from([archive]), archive.length);
  const members = new Map<string, Buffer>();
  for await (const h of readTar(source)) {
    if (h.type !== "file") continue;
    members.set(h.path, (await source.read(h.size)) ?? Buffer.alloc(0));
  }
  return members;
}

describe("an image keeps its original content", () => {
  it("pull, then push to another registry: the same manifest and config digests, the same bytes", async () => {
    const image = await publishImage(source, "shop/web", "1");
    const store = createImageStore(path.join(work, "state"));
    const pulled = await pullImage(store, image.ref, { client });
    expect(pulled.record.digest).toBe(image.digest);
    expect(pulled.record.content).toMatchObject({
      mediaType: MediaType.DockerManifest,
      config: image.configDigest,
    });
    expect((await readdir(path.join(store.root, "blobs", "sha256"))).sort()).toEqual(
      [image.digest, image.configDigest, ...image.layers.map((l) => sha256(l.blob))]
        .map((d) => d.slice(7))
        .sort(),
    );

    const result = await pushImage(store, image.ref, `${target.host}/copy/web:1`, { client });
    expect(result.digest).toBe(image.digest);
    const pushed = await remote(`${target.host}/copy/web:1`);
    expect(pushed.digest).toBe(image.digest);
    expect(pushed.mediaType).toBe(MediaType.DockerManifest);
    expect(pushed.config.equals(image.config)).toBe(true);
  });

  it("pull, save, load into another store: the same image id; the archive holds the original blobs", async () => {
    const image = await publishImage(source, "shop/web", "1");
    const store = createImageStore(path.join(work, "a"));
    await pullImage(store, image.ref, { client });
    const archive = await saveToBuffer(store, [image.ref]);
    const members = await archiveMembers(archive);
    const index = JSON.parse(members.get("index.json")!.toString("utf8"));
    expect(index.manifests[0]).toMatchObject({ digest: image.digest, mediaType: MediaType.DockerManifest });
    for (const layer of image.layers) {
      expect(members.get(`blobs/sha256/${sha256(layer.blob).slice(7)}`)?.equals(layer.blob)).toBe(true);
    }
    expect(members.get(`blobs/sha256/${image.configDigest.slice(7)}`)?.equals(image.config)).toBe(true);

    const other = createImageStore(path.join(work, "b"));
    const loaded = await loadImages(other, Readable.from([archive]));
    expect(loaded).toEqual([{ name: expect.stringContaining("shop/web:1"), digest: image.digest }]);
    expect((await other.inspect(image.digest)).layers).toEqual(image.layers.map((l) => l.diffId));
    // Saved again from the loaded copy: the same blobs.
    const again = await archiveMembers(await saveToBuffer(other, [image.digest]));
    expect(again.get(`blobs/sha256/${image.digest.slice(7)}`)).toEqual(
      members.get(`blobs/sha256/${image.digest.slice(7)}`),
    );
  });

  it("without kept layer blobs, push makes layers again and keeps the original config apart from diff IDs", async () => {
    const image = await publishImage(source, "shop/web", "1");
    const store = createImageStore(path.join(work, "state"));
    await mkdir(store.root, { recursive: true });
    await writeFile(path.join(store.root, "config.json"), JSON.stringify({ keepLayerBlobs: false }));
    await pullImage(store, image.ref, { client });
    const kept = await readdir(path.join(store.root, "blobs", "sha256"));
    expect(kept.sort()).toEqual([image.digest, image.configDigest].map((d) => d.slice(7)).sort());

    const result = await pushImage(store, image.ref, `${target.host}/copy/web:1`, { client });
    expect(result.digest).not.toBe(image.digest);
    const pushed = await remote(`${target.host}/copy/web:1`);
    const original = JSON.parse(image.config.toString("utf8"));
    const config = JSON.parse(pushed.config.toString("utf8"));
    expect(config).toEqual({ ...original, rootfs: { type: "layers", diff_ids: expect.any(Array) } });
    expect(pushed.manifest.layers).toHaveLength(2);
  });
});

describe("prune and the content store", () => {
  it("keeps the blobs an image names, removes them with the image, removes strays, spares leased blobs", async () => {
    const image = await publishImage(source, "shop/web", "1");
    const store = createImageStore(path.join(work, "state"));
    await pullImage(store, image.ref, { client });
    const blobsDir = path.join(store.root, "blobs", "sha256");
    const stray = await store.blobs.putBytes(Buffer.from("left by a crashed pull"));
    const leased = await store.blobs.putBytes(Buffer.from("a pull in progress"));
    const usedImages = async () => [] as string[];

    const report = await store.holdContent({ blobs: [leased] }, () => store.prune({ usedImages }));
    expect(report.images).toEqual([]);
    expect(report.blobs).toEqual([{ digest: stray, size: 22 }]);
    expect(await readdir(blobsDir)).toHaveLength(5); // manifest, config, 2 layers, the leased one
    expect(await readdir(blobsDir)).toContain(leased.slice(7));

    // A container's image keeps its blobs under prune -a.
    const digest = image.digest;
    expect(
      (await store.prune({ all: true, usedImages: async () => [digest] })).blobs.map((b) => b.digest),
    ).toEqual([leased]);
    const all = await store.prune({ all: true, usedImages });
    expect(all.images.map((i) => i.digest)).toEqual([digest]);
    expect(all.blobs).toHaveLength(4);
    expect(all.reclaimed).toBeGreaterThan(image.layers.reduce((n, l) => n + l.blob.length, 0));
    expect(await readdir(blobsDir)).toEqual([]);
  });

  it("rmi removes the blobs no other image names", async () => {
    const image = await publishImage(source, "shop/web", "1");
    const store = createImageStore(path.join(work, "state"));
    await pullImage(store, image.ref, { client });
    await store.remove(image.ref, { inUse: () => false });
    expect(await readdir(path.join(store.root, "blobs", "sha256"))).toEqual([]);
  });
});
