import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { addAbortSignal, type Readable } from "node:stream";
import {
  type Descriptor,
  isOciError,
  LAYER_MEDIA_TYPES,
  OciError,
  parseDigest,
  type RegistryClient,
  type RepositoryRef,
  unpackLayer,
} from "@berth/oci";
import { withLockFile } from "../atomic.ts";
import { BlobCopy } from "../blob-copy.ts";
import { rememberLayerBlob } from "../layer-blob.ts";
import { digestHex } from "../reference.ts";
import type { ImageStore } from "../store.ts";
import { type ProgressListener, shortLayerId } from "./events.ts";

/** Long enough for another process to download a large layer while we wait for its lock. */
const LAYER_LOCK_TIMEOUT_MS = 60 * 60 * 1000;
const PROGRESS_STEP_BYTES = 256 * 1024;

export interface LayerJob {
  store: ImageStore;
  client: RegistryClient;
  repo: RepositoryRef;
  layer: Descriptor;
  /** The uncompressed tar's digest from the image config; the layer's key in the store. */
  diffId: string;
  onProgress: ProgressListener;
  /** Keep the compressed blob in the store's blobs (see StoreSettings.keepLayerBlobs). */
  keepBlob?: boolean;
  /** Aborted when the pull is abandoned (another layer failed): the download stops early. */
  signal?: AbortSignal;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

interface StreamState {
  /** Set once every byte arrived and matched the descriptor's digest and size. */
  checked: boolean;
  /** Why the stream was cut short. */
  error?: Error;
}

/**
 * Passes the blob's bytes through, hashing and counting them; after the last
 * chunk, checks the digest and size against the descriptor. It never throws
 * into the unpacker (unpackLayer turns an input that throws into an unhandled
 * error, see the report): a failure ends the stream early and is kept in
 * `state` for the caller to throw.
 */
async function* verified(
  stream: Readable,
  job: LayerJob,
  id: string,
  state: StreamState,
  copy: BlobCopy | null,
): AsyncGenerator<Uint8Array> {
  const { algorithm } = parseDigest(job.layer.digest);
  const hash = createHash(algorithm);
  const total = job.layer.size;
  let current = 0;
  let reported = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      current += chunk.length;
      if (current > total) {
        state.error = new OciError(
          "InvalidArgument",
          `layer ${job.layer.digest} is larger than its ${total} bytes`,
        );
        return;
      }
      if (current - reported >= PROGRESS_STEP_BYTES || current === total) {
        reported = current;
        job.onProgress({ type: "progress", id, current, total });
      }
      copy?.write(chunk);
      yield chunk;
    }
  } catch (err) {
    state.error = new OciError(
      (err as NodeJS.ErrnoException).syscall ? "Internal" : "Unavailable",
      `download of layer ${job.layer.digest} failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
    return;
  }
  const digest = `${algorithm}:${hash.digest("hex")}`;
  if (digest !== job.layer.digest || current !== total) {
    state.error = new OciError(
      "InvalidArgument",
      `layer ${job.layer.digest}: got ${current} bytes with digest ${digest} (want ${total} bytes)`,
    );
    return;
  }
  state.checked = true;
}

/** Downloads and unpacks a layer into a temp directory, checking both digests, then renames it into place. */
async function download(job: LayerJob, id: string, target: string): Promise<void> {
  const staging = path.join(
    job.store.tempDir,
    `pull-${digestHex(job.diffId).slice(0, 12)}-${randomBytes(6).toString("hex")}`,
  );
  await mkdir(job.store.tempDir, { recursive: true });
  const copy = job.keepBlob ? new BlobCopy(`${staging}.blob`) : null;
  let stream: Readable | undefined;
  try {
    ({ stream } = await job.client.getBlob(job.repo, job.layer.digest));
    // Another layer failed: the stream is destroyed, and the unpacker fails and cleans up.
    if (job.signal) addAbortSignal(job.signal, stream);
    job.onProgress({ type: "layer", id, status: "Downloading" });
    const state: StreamState = { checked: false };
    const result = await unpackLayer(verified(stream, job, id, state, copy), staging, {
      whiteouts: "overlay",
    }).catch((err: unknown) => {
      // The unpacker's refusals (a hostile entry, a name it cannot write) say what, not where.
      throw (
        state.error ??
        (isOciError(err)
          ? new OciError(err.code, `layer ${job.layer.digest}: ${err.message}`, { cause: err })
          : err)
      );
    });
    if (state.error) throw state.error;
    if (!state.checked) {
      throw new OciError(
        "Internal",
        `layer ${job.layer.digest} was not read to its end; its digest is unchecked`,
      );
    }
    if (result.diffId !== job.diffId) {
      throw new OciError(
        "InvalidArgument",
        `layer ${job.layer.digest} unpacks to ${result.diffId}, but the image config says ${job.diffId}`,
      );
    }
    if (copy) {
      copy.close();
      await job.store.blobs.putFiles([{ digest: job.layer.digest, file: copy.file }]);
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(staging, target);
    // A later push to this registry can then mount the blob instead of uploading the layer again.
    const { digest, size, mediaType } = job.layer;
    await rememberLayerBlob(job.store, job.diffId, { digest, size, mediaType, diffId: job.diffId }, job.repo);
  } finally {
    stream?.destroy();
    copy?.close();
    await rm(staging, { recursive: true, force: true });
    if (copy) await rm(copy.file, { force: true });
  }
}

/** Downloads only the blob of a layer that is already unpacked (kept so a push or save sends it as it was). */
async function downloadBlob(job: LayerJob, id: string): Promise<void> {
  await mkdir(job.store.tempDir, { recursive: true });
  const copy = new BlobCopy(
    path.join(
      job.store.tempDir,
      `blob-${digestHex(job.layer.digest).slice(0, 12)}-${randomBytes(6).toString("hex")}`,
    ),
  );
  let stream: Readable | undefined;
  try {
    ({ stream } = await job.client.getBlob(job.repo, job.layer.digest));
    if (job.signal) addAbortSignal(job.signal, stream);
    const state: StreamState = { checked: false };
    for await (const _ of verified(stream, job, id, state, copy)) {
      // hashed, counted and copied
    }
    if (state.error) throw state.error;
    copy.close();
    await job.store.blobs.putFiles([{ digest: job.layer.digest, file: copy.file }]);
  } finally {
    stream?.destroy();
    copy.close();
    await rm(copy.file, { force: true });
  }
}

/**
 * Makes sure the layer is unpacked in the store, downloading it at most once
 * across processes: a lock file per layer, and a second look after taking it.
 * Resolves true when this call downloaded it.
 */
export async function ensureLayer(job: LayerJob): Promise<boolean> {
  const id = shortLayerId(job.layer.digest);
  if (!(job.layer.mediaType in LAYER_MEDIA_TYPES)) {
    throw new OciError(
      "InvalidArgument",
      `layer ${job.layer.digest} has unsupported media type ${job.layer.mediaType}`,
    );
  }
  const target = job.store.layerPath(job.diffId);
  const present = async () =>
    (await exists(target)) && (!job.keepBlob || (await job.store.blobs.has(job.layer.digest)));
  if (await present()) {
    job.onProgress({ type: "layer", id, status: "Already exists" });
    return false;
  }
  return withLayerLock(job.store, job.diffId, async () => {
    if (await present()) {
      job.onProgress({ type: "layer", id, status: "Already exists" });
      return false;
    }
    if (await exists(target)) {
      // Unpacked for another image (or imported) without this blob: fetch the blob alone.
      await downloadBlob(job, id);
      job.onProgress({ type: "layer", id, status: "Already exists" });
      return false;
    }
    await download(job, id, target);
    job.onProgress({ type: "layer", id, status: "Pull complete" });
    return true;
  });
}

/** Runs `fn` holding the lock of one layer (by diff ID), which every writer of that layer takes. */
export async function withLayerLock<T>(store: ImageStore, diffId: string, fn: () => Promise<T>): Promise<T> {
  const lockDir = path.join(store.root, "locks");
  await mkdir(lockDir, { recursive: true });
  const lockFile = path.join(lockDir, `layer-${digestHex(diffId)}.lock`);
  return withLockFile(lockFile, fn, LAYER_LOCK_TIMEOUT_MS);
}
