import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  coalesce,
  END_OF_ARCHIVE,
  entryHeader,
  formatReference,
  layerTar,
  MediaType,
  measureLayerTar,
  paddingBlock,
  parseReference,
  readXattrs,
  type XattrMap,
} from "@berth/oci";
import { BerthError } from "@berth/protocol";
import {
  bytesBlob,
  exportConfig,
  exportManifest,
  type LayerDescriptor,
  ociLayerMediaType,
  type StoredContent,
  storedContent,
} from "../content.ts";
import { parseImageRef } from "../reference.ts";
import type { ImageStore } from "../store.ts";
import { whileStreamingImage } from "../streaming.ts";
import type { ImageRecord } from "../types.ts";

export const REF_NAME = "org.opencontainers.image.ref.name";
export const CONTAINERD_NAME = "io.containerd.image.name";
const LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
/** The archive is written in pieces of about this size (headers and small files joined). */
const WRITE_BYTES = 256 * 1024;

interface Blob {
  digest: string;
  size: number;
  /** JSON documents are kept; a stored blob is copied from its file; other layers are tarred again from their directory. */
  bytes?: Buffer;
  file?: string;
  layerDir?: string;
  xattrs?: XattrMap;
}

export interface SavedImage {
  /** The name written, or null for an image saved by digest. */
  name: string | null;
  /** The manifest's digest in the layout. */
  manifest: string;
}

export interface SavePlan {
  blobs: Blob[];
  index: Buffer;
  images: SavedImage[];
}

function annotations(name: string | null): Record<string, string> | undefined {
  if (name === null) return undefined;
  const result: Record<string, string> = { [REF_NAME]: name };
  try {
    result[CONTAINERD_NAME] = formatReference(parseReference(name));
  } catch {
    // A name Berth accepts but Docker's grammar does not: the OCI annotation alone.
  }
  return result;
}

/** A stored image's blobs as they are (same manifest digest as pulled, loaded or built). */
function originalBlobs(content: StoredContent) {
  const config = bytesBlob(content.config!);
  const manifest = bytesBlob(content.manifest!.bytes);
  const layers: Blob[] = content.layers.map(({ blob }) => ({
    digest: blob!.descriptor.digest,
    size: blob!.descriptor.size,
    file: blob!.file,
  }));
  return { config, manifest, mediaType: content.manifest!.mediaType, layers };
}

/**
 * What `save` writes for `refs`: an image whose original blobs are all in the store as they are
 * (manifest, config, compressed layers); else the layers it lacks tarred from their directories
 * (once, to learn digest and size: the tar entry of a blob is named by its digest and must give its
 * size first) with a config (the original one when kept, new diff IDs) and manifest made again;
 * and index.json naming each image as it was asked for (by digest: no name).
 */
export async function planSave(store: ImageStore, refs: string[], records: ImageRecord[]): Promise<SavePlan> {
  const blobs = new Map<string, Blob>();
  const layerBlobs = new Map<string, Blob>();
  const entries: unknown[] = [];
  const images: SavedImage[] = [];
  for (const [i, record] of records.entries()) {
    const byName = parseImageRef(refs[i]!).find((c) => c.kind === "name" && record.names.includes(c.name));
    const name = byName?.kind === "name" ? byName.name : null;
    const content = await storedContent(store, record);
    const { config, manifest, mediaType, layers } = content.complete
      ? originalBlobs(content)
      : await remadeBlobs(store, content, layerBlobs);
    for (const blob of [...layers, config, manifest])
      if (!blobs.has(blob.digest)) blobs.set(blob.digest, blob);
    const note = annotations(name);
    entries.push({
      mediaType,
      digest: manifest.digest,
      size: manifest.size,
      ...(note ? { annotations: note } : {}),
    });
    images.push({ name, manifest: manifest.digest });
  }
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries }),
  );
  return { blobs: [...blobs.values()], index, images };
}

/** Layers without their original blob tarred again (uncompressed, shared across images); a new config and manifest. */
async function remadeBlobs(store: ImageStore, content: StoredContent, made: Map<string, Blob>) {
  const layers: Blob[] = [];
  const descriptors: LayerDescriptor[] = [];
  const diffIds: string[] = [];
  for (const { diffId, blob: stored } of content.layers) {
    if (stored) {
      const { digest, size, mediaType } = stored.descriptor;
      layers.push({ digest, size, file: stored.file });
      descriptors.push({ digest, size, mediaType: ociLayerMediaType(mediaType) });
      diffIds.push(diffId);
      continue;
    }
    let blob = made.get(diffId);
    if (!blob) {
      const layerDir = store.layerPath(diffId);
      const xattrs = await readXattrs(layerDir);
      blob = { ...(await measureLayerTar(layerDir, { xattrs, devices: "refuse" })), layerDir, xattrs };
      made.set(diffId, blob);
    }
    layers.push(blob);
    descriptors.push({ digest: blob.digest, size: blob.size, mediaType: LAYER_TAR });
    diffIds.push(blob.digest);
  }
  const config = exportConfig(content, diffIds, content.record.createdAt);
  const manifest = exportManifest(config, descriptors);
  return { config, manifest, mediaType: MediaType.OciManifest as string, layers };
}

/** A stored blob's bytes, checked to be the size its descriptor says (the tar entry announced it). */
async function* storedBlob(blob: Blob): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of createReadStream(blob.file!, { highWaterMark: 1 << 20 })) {
    size += (chunk as Buffer).length;
    if (size > blob.size) break;
    yield chunk as Buffer;
  }
  if (size !== blob.size) throw new BerthError("Internal", `blob ${blob.digest} changed while it was saved`);
  yield paddingBlock(size);
}

const fileHeader = (path: string, size: number) =>
  entryHeader({ path, type: "file", size, mode: 0o644, uid: 0, gid: 0, mtime: 0 });
const dirHeader = (path: string) =>
  entryHeader({ path, type: "directory", size: 0, mode: 0o755, uid: 0, gid: 0, mtime: 0 });

function* smallFile(path: string, bytes: Buffer): Generator<Buffer> {
  yield fileHeader(path, bytes.length);
  yield bytes;
  yield paddingBlock(bytes.length);
}

/** A layer's tar again, checked against the digest and size measured before. */
async function* layerBlob(blob: Blob): AsyncGenerator<Buffer> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of layerTar(blob.layerDir!, { xattrs: blob.xattrs, devices: "refuse" })) {
    hash.update(chunk);
    size += chunk.length;
    if (size > blob.size) break;
    yield chunk;
  }
  if (`sha256:${hash.digest("hex")}` !== blob.digest || size !== blob.size) {
    throw new BerthError("Internal", `layer ${blob.layerDir} changed while it was saved; save again`);
  }
  yield paddingBlock(size);
}

async function* entries(plan: SavePlan): AsyncGenerator<Buffer> {
  yield* smallFile("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
  yield dirHeader("blobs/");
  yield dirHeader("blobs/sha256/");
  for (const blob of plan.blobs) {
    const path = `blobs/sha256/${blob.digest.slice("sha256:".length)}`;
    if (blob.bytes) yield* smallFile(path, blob.bytes);
    else if (blob.file) {
      yield fileHeader(path, blob.size);
      yield* storedBlob(blob);
    } else {
      yield fileHeader(path, blob.size);
      yield* layerBlob(blob);
    }
  }
  yield* smallFile("index.json", plan.index);
  yield END_OF_ARCHIVE;
}

/** The OCI image layout tarball of a plan, as a stream of buffers. */
export function layoutTarball(plan: SavePlan): AsyncGenerator<Buffer> {
  return coalesce(entries(plan), WRITE_BYTES) as AsyncGenerator<Buffer>;
}

/**
 * Writes the OCI image layout tarball of `refs` to `dest`, holding the
 * images (safe from prune and rmi) until the last byte is written.
 */
export async function saveImages(
  store: ImageStore,
  refs: string[],
  dest: NodeJS.WritableStream,
  options: { end?: boolean } = {},
): Promise<SavedImage[]> {
  if (refs.length === 0) throw new BerthError("InvalidArgument", "name at least one image to save");
  return store.holdImages(refs, async (records) => {
    const plan = await planSave(store, refs, records);
    await whileStreamingImage(() =>
      pipeline(Readable.from(layoutTarball(plan), { objectMode: false }), dest, {
        end: options.end ?? true,
      }),
    );
    return plan.images;
  });
}
