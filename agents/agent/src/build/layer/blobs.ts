import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { coalesce, type LayerTarOptions, layerTar, unpackLayer, withGcHeadroom } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import type { ImageStore } from "../../images/index.ts";
import { readJson, writeFileAtomic } from "../../images/index.ts";
import { ParallelGzip } from "../../images/parallel-gzip.ts";

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

/** How much of the tar may wait for gzip or the unpacker before the tar pauses (per consumer). */
const TEE_BYTES = 1024 * 1024;
/**
 * The tar goes to the hash and the unpacker in pieces of at least this size, not as a header, a
 * small file and its padding (ParallelGzip collects its own 4 MiB blocks). Measured when gzip was
 * one stream, each write a trip to the thread pool: a 300 MB context of 12,800 files took 20 s to
 * commit in the tar's own pieces, 15 s in these.
 */
const PIECE_BYTES = 256 * 1024;

/** One pass over a layer's tar: what it made. */
interface TarredLayer {
  /** sha256 of the tar. */
  diffId: string;
  /** At most the end-of-archive blocks: the tree holds nothing. */
  empty: boolean;
  fileBytes: number;
  /** The gzip blob, in a temp file of the build's store until it is renamed into place. */
  gzip: { file: string; digest: string; size: number };
}

/**
 * Tars `dir` once (layerTar: reproducible), hashing the tar while gzip compresses it into a blob
 * and, given `unpackInto`, the unpacker makes the layer's directory from it. gzip compresses
 * members of the tar on the thread pool, several at a time (ParallelGzip, which also hashes the
 * tar), while this thread tars and unpacks (a commit used to write the tar to a file, then gzip it
 * in one stream and unpack it from the file). The tar waits for the slower consumer. A failure of
 * any part stops the others and removes the blob's file. The caller removes the directory, and the
 * blob's file when it does not keep it.
 */
async function tarOnce(
  dir: string,
  options: LayerTarOptions,
  blobs: BuildBlobs,
  unpackInto: string | null,
): Promise<TarredLayer> {
  await mkdir(blobs.tempDir, { recursive: true });
  await mkdir(path.dirname(blobs.blobPath("sha256:0")), { recursive: true });
  const file = path.join(blobs.tempDir, `gz-${randomBytes(6).toString("hex")}`);
  try {
    // The GC headroom, as for a pull: the blocks in flight would start a full collection often.
    return await withGcHeadroom(() => tarInto(dir, options, file, unpackInto));
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}

async function tarInto(
  dir: string,
  options: LayerTarOptions,
  file: string,
  unpackInto: string | null,
): Promise<TarredLayer> {
  const failed = new AbortController();
  const { signal } = failed;
  const watched = <T>(work: Promise<T>): Promise<T> =>
    work.catch((err: unknown) => {
      failed.abort(err);
      throw err;
    });
  const gzip = await ParallelGzip.create(file);
  const toUnpack = unpackInto === null ? null : new PassThrough({ highWaterMark: TEE_BYTES });
  const unpacked =
    toUnpack === null ? null : watched(unpackLayer(toUnpack, unpackInto!, { whiteouts: "overlay" }));
  // Awaited once the tar is sent; a failure before then reaches the loop through `signal`.
  unpacked?.catch(() => {});
  const counter = { fileBytes: 0 };
  let blob: { digest: string; size: number };
  try {
    for await (const chunk of coalesce(layerTar(dir, { ...options, counter }), PIECE_BYTES)) {
      signal.throwIfAborted();
      toUnpack?.write(chunk);
      await watched(gzip.write(chunk));
      // Asked after gzip's turn: the unpacker may have drained meanwhile.
      if (toUnpack?.writableNeedDrain) await once(toUnpack, "drain", { signal });
    }
    toUnpack?.end();
    blob = await watched(gzip.end());
  } catch (err) {
    // What failed first; the others stop too (an unpacker given a cut tar fails) and are waited for.
    const cause: unknown = signal.aborted ? signal.reason : err;
    toUnpack?.end();
    await Promise.allSettled([gzip.abort(), unpacked]);
    throw cause;
  }
  const result = unpacked === null ? null : await unpacked;
  const { digest: diffId, size } = gzip.input;
  if (result && result.diffId !== diffId) {
    throw new BerthError("Internal", `layer unpacked to ${result.diffId}, expected ${diffId}`);
  }
  return {
    diffId,
    empty: size <= 1024,
    fileBytes: counter.fileBytes,
    gzip: { file, ...blob },
  };
}

/** Moves a layer unpacked in `staging` into the image store under its diff ID (once; another writer's copy stays). */
async function intoStore(staging: string, diffId: string, store: ImageStore): Promise<void> {
  const target = store.layerPath(diffId);
  await mkdir(path.dirname(target), { recursive: true });
  await rename(staging, target).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
  });
}

/** Moves a one-pass blob into the build's store and records it as the blob of `storeDiffId`. */
async function keepBlob(blobs: BuildBlobs, storeDiffId: string, tarred: TarredLayer): Promise<LayerBlob> {
  const { diffId, fileBytes } = tarred;
  const { file, digest, size } = tarred.gzip;
  await rename(file, blobs.blobPath(digest));
  const blob = { diffId, digest, size, fileBytes };
  await blobs.recordLayerBlob(storeDiffId, blob);
  return blob;
}

/**
 * Turn a directory in overlay form (a step's upper dir) into a layer in one pass (tarOnce): gzip
 * blob, unpacked into the image store under its diff ID. Null when the step changed nothing.
 */
export async function commitLayer(
  dir: string,
  options: LayerTarOptions,
  blobs: BuildBlobs,
  store: ImageStore,
): Promise<LayerBlob | null> {
  await mkdir(store.tempDir, { recursive: true });
  const staging = path.join(store.tempDir, `build-${randomBytes(6).toString("hex")}`);
  let file: string | null = null;
  try {
    const tarred = await tarOnce(dir, options, blobs, staging);
    file = tarred.gzip.file;
    if (tarred.empty) return null;
    await intoStore(staging, tarred.diffId, store);
    return await keepBlob(blobs, tarred.diffId, tarred);
  } finally {
    await rm(staging, { recursive: true, force: true });
    if (file) await rm(file, { force: true });
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
  const tarred = await tarOnce(store.layerPath(storeDiffId), {}, blobs, null);
  try {
    return await keepBlob(blobs, storeDiffId, tarred);
  } finally {
    await rm(tarred.gzip.file, { force: true });
  }
}
