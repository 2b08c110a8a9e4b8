import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { formatReference, MediaType, parseReference } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { hostPlatform } from "../pull/platform.ts";
import { parseImageRef } from "../reference.ts";
import type { ImageStore } from "../store.ts";
import type { ImageRecord } from "../types.ts";
import { layerTar, measureLayer, readXattrs, type XattrMap } from "./layer-tar.ts";
import { END_OF_ARCHIVE, entryHeader, paddingBlock } from "./tar-header.ts";

export const REF_NAME = "org.opencontainers.image.ref.name";
export const CONTAINERD_NAME = "io.containerd.image.name";
const LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";

interface Blob {
  digest: string;
  size: number;
  /** JSON documents are kept; layers are tarred again from their directory as they are written. */
  bytes?: Buffer;
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

function jsonBlob(value: unknown): Blob {
  const bytes = Buffer.from(JSON.stringify(value));
  return { digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length, bytes };
}

/** The OCI image config of a stored image (Berth keeps the parts containers need). */
function ociConfig(record: ImageRecord, diffIds: string[]) {
  const { architecture, variant } = hostPlatform();
  const c = record.config;
  return {
    created: record.createdAt,
    architecture,
    ...(variant ? { variant } : {}),
    os: "linux",
    config: {
      Env: c.env,
      ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
      ...(c.cmd ? { Cmd: c.cmd } : {}),
      ...(c.workdir ? { WorkingDir: c.workdir } : {}),
      ...(c.user ? { User: c.user } : {}),
    },
    rootfs: { type: "layers", diff_ids: diffIds },
  };
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

/**
 * What `save` writes for `refs`: every layer tarred from its directory once
 * (to learn its digest and size: the tar entry of a blob is named by its
 * digest and must give its size first), a config and a manifest per image,
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
    const layers: Blob[] = [];
    for (const diffId of record.layers) {
      let blob = layerBlobs.get(diffId);
      if (!blob) {
        const layerDir = store.layerPath(diffId);
        const xattrs = await readXattrs(layerDir);
        blob = { ...(await measureLayer(layerDir, xattrs)), layerDir, xattrs };
        layerBlobs.set(diffId, blob);
      }
      layers.push(blob);
    }
    const config = jsonBlob(
      ociConfig(
        record,
        layers.map((l) => l.digest),
      ),
    );
    const manifest = jsonBlob({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: LAYER_TAR, digest: l.digest, size: l.size })),
    });
    for (const blob of [...layers, config, manifest])
      if (!blobs.has(blob.digest)) blobs.set(blob.digest, blob);
    const note = annotations(name);
    entries.push({
      mediaType: MediaType.OciManifest,
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
  for await (const chunk of layerTar(blob.layerDir!, blob.xattrs)) {
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

/** Joins small buffers into writes of about 256 KiB. */
async function* coalesce(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const limit = 256 * 1024;
  let parts: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of source) {
    if (chunk.length >= limit && bytes === 0) {
      yield chunk;
      continue;
    }
    parts.push(chunk);
    bytes += chunk.length;
    if (bytes >= limit) {
      yield Buffer.concat(parts, bytes);
      parts = [];
      bytes = 0;
    }
  }
  if (bytes > 0) yield Buffer.concat(parts, bytes);
}

async function* entries(plan: SavePlan): AsyncGenerator<Buffer> {
  yield* smallFile("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
  yield dirHeader("blobs/");
  yield dirHeader("blobs/sha256/");
  for (const blob of plan.blobs) {
    const path = `blobs/sha256/${blob.digest.slice("sha256:".length)}`;
    if (blob.bytes) yield* smallFile(path, blob.bytes);
    else {
      yield fileHeader(path, blob.size);
      yield* layerBlob(blob);
    }
  }
  yield* smallFile("index.json", plan.index);
  yield END_OF_ARCHIVE;
}

/** The OCI image layout tarball of a plan, as a stream of buffers. */
export function layoutTarball(plan: SavePlan): AsyncGenerator<Buffer> {
  return coalesce(entries(plan));
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
    await pipeline(Readable.from(layoutTarball(plan), { objectMode: false }), dest, {
      end: options.end ?? true,
    });
    return plan.images;
  });
}
