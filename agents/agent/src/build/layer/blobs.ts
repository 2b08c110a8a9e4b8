import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { type LayerTarOptions, layerTar, unpackLayer } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import type { ImageStore } from "../../images/index.ts";
import { readJson, writeFileAtomic } from "../../images/index.ts";

/**
 * The build's content store, `<stateDir>/build/`: compressed layer blobs,
 * image configs and manifests under blobs/sha256/<hex> (what a push or an
 * OCI layout needs), and for each layer in the image store (by diff ID) the
 * blob that holds it, in layers/<hex>.json.
 */

export interface LayerBlob {
  /** Digest of the uncompressed tar (the image config's diff_id). */
  diffId: string;
  /** Digest and size of the gzip blob. */
  digest: string;
  size: number;
  /** Bytes of the layer's regular files. */
  fileBytes?: number;
}

export interface BuildBlobs {
  readonly root: string;
  readonly tempDir: string;
  blobPath(digest: string): string;
  has(digest: string): Promise<boolean>;
  /** Store bytes (a config or manifest) as a blob; returns its digest. */
  putJson(value: unknown): Promise<{ digest: string; size: number; bytes: Buffer }>;
  readBlob(digest: string): Promise<Buffer | null>;
  /** The blob recorded for a store layer, when it still exists. */
  layerBlob(storeDiffId: string): Promise<LayerBlob | null>;
  recordLayerBlob(storeDiffId: string, blob: LayerBlob): Promise<void>;
}

const hex = (digest: string) => digest.slice(digest.indexOf(":") + 1);

export function createBuildBlobs(stateDir: string): BuildBlobs {
  const root = path.join(stateDir, "build");
  const blobsDir = path.join(root, "blobs", "sha256");
  const layersDir = path.join(root, "layers");
  const tempDir = path.join(root, "tmp");
  const blobPath = (digest: string) => path.join(blobsDir, hex(digest));
  const has = (digest: string) =>
    stat(blobPath(digest)).then(
      () => true,
      () => false,
    );
  const ensure = () => Promise.all([blobsDir, layersDir, tempDir].map((d) => mkdir(d, { recursive: true })));
  return {
    root,
    tempDir,
    blobPath,
    has,
    async putJson(value) {
      await ensure();
      const bytes = Buffer.from(JSON.stringify(value));
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      if (!(await has(digest))) {
        const temp = path.join(tempDir, `blob-${randomBytes(6).toString("hex")}`);
        await writeFile(temp, bytes);
        await rename(temp, blobPath(digest));
      }
      return { digest, size: bytes.length, bytes };
    },
    readBlob: (digest) => readFile(blobPath(digest)).catch(() => null),
    async layerBlob(storeDiffId) {
      const blob = await readJson<LayerBlob | null>(path.join(layersDir, `${hex(storeDiffId)}.json`), null);
      return blob && (await has(blob.digest)) ? blob : null;
    },
    async recordLayerBlob(storeDiffId, blob) {
      await ensure();
      await writeFileAtomic(path.join(layersDir, `${hex(storeDiffId)}.json`), JSON.stringify(blob));
    },
  };
}

/** Write `dir` as a layer tar into the temp dir; null when the tree holds nothing. */
async function writeTar(dir: string, options: LayerTarOptions, tempDir: string) {
  const tarFile = path.join(tempDir, `layer-${randomBytes(6).toString("hex")}.tar`);
  const hash = createHash("sha256");
  let bytes = 0;
  const counter = { fileBytes: 0 };
  const out = createWriteStream(tarFile, { mode: 0o600 });
  try {
    await pipeline(async function* () {
      for await (const chunk of layerTar(dir, { ...options, counter })) {
        hash.update(chunk);
        bytes += chunk.length;
        yield chunk;
      }
    }, out);
  } catch (err) {
    await rm(tarFile, { force: true });
    throw err;
  }
  return {
    tarFile,
    diffId: `sha256:${hash.digest("hex")}`,
    empty: bytes <= 1024,
    fileBytes: counter.fileBytes,
  };
}

async function gzipBlob(tarFile: string, blobs: BuildBlobs): Promise<{ digest: string; size: number }> {
  const temp = path.join(blobs.tempDir, `gz-${randomBytes(6).toString("hex")}`);
  const hash = createHash("sha256");
  let size = 0;
  try {
    await pipeline(
      createReadStream(tarFile),
      createGzip(),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(temp, { mode: 0o644 }),
    );
    const digest = `sha256:${hash.digest("hex")}`;
    await rename(temp, blobs.blobPath(digest));
    return { digest, size };
  } finally {
    await rm(temp, { force: true });
  }
}

/** Unpack the tar into the image store under its diff ID (once; another writer's copy stays). */
async function intoStore(tarFile: string, diffId: string, store: ImageStore): Promise<void> {
  const target = store.layerPath(diffId);
  if (
    await stat(target).then(
      () => true,
      () => false,
    )
  )
    return;
  await mkdir(store.tempDir, { recursive: true });
  const staging = path.join(store.tempDir, `build-${randomBytes(6).toString("hex")}`);
  try {
    const result = await unpackLayer(createReadStream(tarFile), staging, { whiteouts: "overlay" });
    if (result.diffId !== diffId) {
      throw new BerthError("Internal", `layer unpacked to ${result.diffId}, expected ${diffId}`);
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(staging, target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Turn a directory in overlay form (a step's upper dir) into a layer: tar,
 * gzip blob, unpacked into the image store under its diff ID. Null when the
 * step changed nothing.
 */
export async function commitLayer(
  dir: string,
  options: LayerTarOptions,
  blobs: BuildBlobs,
  store: ImageStore,
): Promise<LayerBlob | null> {
  await mkdir(blobs.tempDir, { recursive: true });
  await mkdir(path.dirname(blobs.blobPath("sha256:0")), { recursive: true });
  const { tarFile, diffId, empty, fileBytes } = await writeTar(dir, options, blobs.tempDir);
  try {
    if (empty) return null;
    const { digest, size } = await gzipBlob(tarFile, blobs);
    await intoStore(tarFile, diffId, store);
    const blob = { diffId, digest, size, fileBytes };
    await blobs.recordLayerBlob(diffId, blob);
    return blob;
  } finally {
    await rm(tarFile, { force: true });
  }
}

/**
 * The blob of a store layer that did not come from a build (imported or
 * pulled): the unpacked directory is archived once and remembered. Its
 * diff ID is that of the new archive.
 */
export async function blobForStoreLayer(
  storeDiffId: string,
  blobs: BuildBlobs,
  store: ImageStore,
): Promise<LayerBlob> {
  const known = await blobs.layerBlob(storeDiffId);
  if (known) return known;
  await mkdir(blobs.tempDir, { recursive: true });
  const { tarFile, diffId, fileBytes } = await writeTar(store.layerPath(storeDiffId), {}, blobs.tempDir);
  try {
    const { digest, size } = await gzipBlob(tarFile, blobs);
    const blob = { diffId, digest, size, fileBytes };
    await blobs.recordLayerBlob(storeDiffId, blob);
    return blob;
  } finally {
    await rm(tarFile, { force: true });
  }
}
