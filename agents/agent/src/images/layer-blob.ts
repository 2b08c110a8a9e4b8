// Compressed blobs of stored layers: what a push uploads. A layer without a kept gzip blob has one
// made again, from its directory (reproducibly) or from its kept uncompressed tar, or reused from
// where it came from.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { layerTar, MediaType } from "@berth/oci";
import { readJson, withLockFile, writeFileAtomic } from "./atomic.ts";
import { ParallelGzip } from "./parallel-gzip.ts";
import { digestHex } from "./reference.ts";
import type { ImageStore } from "./store.ts";

/** A registry repository known to hold a blob (so a push to the same registry can mount it). */
export interface BlobSource {
  registry: string;
  repository: string;
}

/** A compressed (or plain) blob whose uncompressed tar is the layer. */
export interface LayerBlob {
  digest: string;
  size: number;
  mediaType: string;
  /** sha256 of the uncompressed tar: the diff ID an image config must list for this blob. */
  diffId: string;
  /** Repositories known to hold it, newest first. */
  sources: BlobSource[];
}

/** A gzip blob made from a layer's directory, in a temp file the caller removes. */
export interface GeneratedLayerBlob extends LayerBlob {
  file: string;
}

/** Per stored layer (by its diff ID): the blobs known for it. */
interface LayerBlobRecord {
  blobs: LayerBlob[];
}

const MAX_SOURCES = 8;

const recordDir = (store: ImageStore) => path.join(store.root, "layer-blobs");
const recordFile = (store: ImageStore, diffId: string) =>
  path.join(recordDir(store), `${digestHex(diffId)}.json`);

/** The blobs known for a stored layer: the one it was pulled as (if any) first, then those made from it. */
export async function knownLayerBlobs(store: ImageStore, diffId: string): Promise<LayerBlob[]> {
  return (await readJson<LayerBlobRecord>(recordFile(store, diffId), { blobs: [] })).blobs;
}

/**
 * Remembers that `blob` holds the stored layer `diffId`, and (when given) that `source` has it.
 * Pull calls it for each layer it downloads; push for each layer it uploads or finds.
 */
export async function rememberLayerBlob(
  store: ImageStore,
  diffId: string,
  blob: Omit<LayerBlob, "sources">,
  source?: BlobSource,
): Promise<void> {
  await mkdir(recordDir(store), { recursive: true });
  const file = recordFile(store, diffId);
  await withLockFile(`${file}.lock`, async () => {
    const record = await readJson<LayerBlobRecord>(file, { blobs: [] });
    const at = record.blobs.findIndex((b) => b.digest === blob.digest);
    const known = at === -1 ? { ...blob, sources: [] } : record.blobs[at]!;
    const others = known.sources.filter(
      (s) => !source || s.registry !== source.registry || s.repository !== source.repository,
    );
    const updated = { ...known, sources: (source ? [source, ...others] : others).slice(0, MAX_SOURCES) };
    if (at === -1) record.blobs.push(updated);
    else record.blobs[at] = updated;
    await writeFileAtomic(file, JSON.stringify(record));
  });
}

/**
 * The stored layer `diffId` as a gzip blob: its directory tarred reproducibly (sorted names, overlay
 * whiteouts and opaque directories back as `.wh.` entries, hard links kept: @berth/oci's layerTar)
 * and compressed by ParallelGzip (members at fixed offsets, the default level: the same directory
 * always gives the same bytes with the same zlib), into a temp file of the store. Given `tarFile`
 * (the layer's uncompressed blob, as a load of Docker's old format keeps it), that tar is
 * compressed as it is, so the diff ID stays the layer's. Hashes both the tar (diff ID) and the
 * blob (digest) on the way, and remembers the result for the layer.
 */
export async function gzipLayerBlob(
  store: ImageStore,
  diffId: string,
  tarFile?: string,
): Promise<GeneratedLayerBlob> {
  await mkdir(store.tempDir, { recursive: true });
  const file = path.join(
    store.tempDir,
    `blob-${digestHex(diffId).slice(0, 12)}-${randomBytes(6).toString("hex")}.gz`,
  );
  let made: { digest: string; size: number; diffId: string };
  try {
    const gzip = await ParallelGzip.create(file);
    try {
      // Not joined first: ParallelGzip collects its own blocks.
      const source: AsyncIterable<Uint8Array> = tarFile
        ? createReadStream(tarFile, { highWaterMark: 1024 * 1024 })
        : layerTar(store.layerPath(diffId));
      for await (const chunk of source) await gzip.write(chunk);
      made = { ...(await gzip.end()), diffId: gzip.input.digest };
    } catch (err) {
      await gzip.abort();
      throw err;
    }
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
  const blob = { ...made, mediaType: MediaType.OciLayerGzip };
  await rememberLayerBlob(store, diffId, blob);
  return { ...blob, sources: [], file };
}
