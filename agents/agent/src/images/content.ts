// An image's content for export (push, save): the original manifest, config and layer blobs from the
// store when it has them; else a config and manifest made again around layers made from directories.
import { createHash } from "node:crypto";
import { type Descriptor, LAYER_MEDIA_TYPES, MediaType, parseManifest } from "@berth/oci";
import { knownLayerBlobs } from "./layer-blob.ts";
import { hostPlatform } from "./pull/platform.ts";
import type { ImageStore } from "./store.ts";
import type { ImageRecord } from "./types.ts";

/** A JSON document as a blob: its exact bytes and their digest. */
export interface JsonBlob {
  bytes: Buffer;
  digest: string;
  size: number;
}

export function jsonBlob(value: unknown): JsonBlob {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length };
}

export function bytesBlob(bytes: Buffer): JsonBlob {
  return { bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length };
}

/** One layer of a stored image: its diff ID, and its original blob when the store has it. */
export interface StoredLayer {
  diffId: string;
  /** The manifest's descriptor and the blob's file; null when the image has no content or the blob was dropped. */
  blob: { descriptor: Descriptor; file: string } | null;
}

export interface StoredContent {
  record: ImageRecord;
  /** The original manifest and config, or null for an imported image. */
  manifest: { bytes: Buffer; mediaType: string } | null;
  config: Buffer | null;
  layers: StoredLayer[];
  /** True when every blob is there: the image can be sent byte for byte, with the same digests. */
  complete: boolean;
}

/** What the store holds of an image's original content. */
export async function storedContent(store: ImageStore, record: ImageRecord): Promise<StoredContent> {
  const none = (): StoredContent => ({
    record,
    manifest: null,
    config: null,
    layers: record.layers.map((diffId) => ({ diffId, blob: null })),
    complete: false,
  });
  const c = record.content;
  if (!c) return none();
  const [manifestBytes, config] = await Promise.all([
    store.blobs.read(record.digest),
    store.blobs.read(c.config),
  ]);
  if (!manifestBytes || !config) return none();
  const parsed = parseManifest(manifestBytes, c.mediaType);
  if (parsed.kind !== "manifest" || parsed.manifest.layers.length !== record.layers.length) return none();
  const layers = await Promise.all(
    parsed.manifest.layers.map(async (descriptor, i) => ({
      diffId: record.layers[i]!,
      blob: (await store.blobs.has(descriptor.digest))
        ? { descriptor, file: store.blobs.path(descriptor.digest) }
        : null,
    })),
  );
  return {
    record,
    manifest: { bytes: manifestBytes, mediaType: c.mediaType },
    config,
    layers,
    complete: layers.every((l) => l.blob !== null),
  };
}

/** The OCI media type of a kept layer blob (Docker's gzip layer is the same bytes). */
export function ociLayerMediaType(mediaType: string): string {
  return LAYER_MEDIA_TYPES[mediaType] === "none" ? MediaType.OciLayer : MediaType.OciLayerGzip;
}

/**
 * The image config to send with layers that were (partly) made again: the original config with the
 * new diff IDs — labels, history, ports, healthcheck and `created` kept — or, for an imported image,
 * one made from what the store keeps (env, cmd, entrypoint, workdir, user, the host's platform).
 */
export function exportConfig(content: StoredContent, diffIds: string[], created?: string): JsonBlob {
  if (content.config) {
    const original = JSON.parse(content.config.toString("utf8")) as Record<string, unknown>;
    return jsonBlob({ ...original, rootfs: { type: "layers", diff_ids: diffIds } });
  }
  const { architecture, variant } = hostPlatform();
  const c = content.record.config;
  return jsonBlob({
    ...(created ? { created } : {}),
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
  });
}

export interface LayerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** An OCI image manifest over a config and layers. */
export function exportManifest(config: JsonBlob, layers: LayerDescriptor[]): JsonBlob {
  return jsonBlob({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
}

/**
 * A compressed blob of a stored layer that the store keeps (pulled or loaded with it): what a build
 * on that layer puts in its manifest, so its base layers keep their digests. Null when there is none.
 */
export async function storedLayerBlob(
  store: ImageStore,
  diffId: string,
): Promise<{ digest: string; size: number; mediaType: string } | null> {
  for (const blob of await knownLayerBlobs(store, diffId)) {
    if (blob.diffId !== diffId || LAYER_MEDIA_TYPES[blob.mediaType] !== "gzip") continue;
    if (blob.mediaType === MediaType.DockerForeignLayerGzip) continue;
    if (await store.blobs.has(blob.digest))
      return { digest: blob.digest, size: blob.size, mediaType: blob.mediaType };
  }
  return null;
}
