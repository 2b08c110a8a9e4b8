import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import {
  type Descriptor,
  LAYER_MEDIA_TYPES,
  MediaType,
  type RegistryClient,
  type RepositoryRef,
} from "@berth/oci";
import { type LayerDescriptor, ociLayerMediaType } from "../content.ts";
import { gzipLayerBlob, knownLayerBlobs, type LayerBlob, rememberLayerBlob } from "../layer-blob.ts";
import { shortLayerId } from "../pull/events.ts";
import type { ImageStore } from "../store.ts";
import type { PushLayerStatus, PushProgressListener } from "./events.ts";

export interface PushLayerJob {
  store: ImageStore;
  client: RegistryClient;
  repo: RepositoryRef;
  /** The stored layer's diff ID (its key in the store). */
  diffId: string;
  onProgress: PushProgressListener;
  /** Aborted when the push is abandoned (another layer failed): an upload stops reading its blob. */
  signal?: AbortSignal;
}

/** A blob is read for its upload 1 MiB at a time (the stream default is 64 KiB). */
const READ_BYTES = 1024 * 1024;

/** What the manifest and config say about a pushed layer. */
export interface PushedLayer {
  descriptor: LayerDescriptor;
  /** sha256 of the blob's uncompressed tar. */
  diffId: string;
  /** True when this push sent the layer's bytes. */
  uploaded: boolean;
}

/** The OCI media type for a known blob, or null for one a push should not reuse (foreign, zstd). */
function ociMediaType(mediaType: string): string | null {
  if (mediaType === MediaType.DockerForeignLayerGzip) return null;
  if (mediaType === MediaType.OciLayerNondistributableGzip) return null;
  const compression = LAYER_MEDIA_TYPES[mediaType];
  if (compression === "gzip") return MediaType.OciLayerGzip;
  if (compression === "none") return MediaType.OciLayer;
  return null;
}

function pushed(blob: LayerBlob, mediaType: string, uploaded: boolean): PushedLayer {
  return { descriptor: { mediaType, digest: blob.digest, size: blob.size }, diffId: blob.diffId, uploaded };
}

/**
 * Sends a layer's original blob from the store (as pulled, loaded or built), unless the repository
 * has it already or can mount it from another repository of the registry known to hold it.
 */
export async function pushStoredLayer(
  job: PushLayerJob,
  stored: { descriptor: Descriptor; file: string },
): Promise<PushedLayer> {
  const { store, client, repo, diffId, onProgress } = job;
  const id = shortLayerId(diffId);
  const { digest, size, mediaType } = stored.descriptor;
  const blob: LayerBlob = { digest, size, mediaType, diffId, sources: [] };
  const source = { registry: repo.registry, repository: repo.repository };
  const done = async (status: PushLayerStatus, uploaded: boolean) => {
    await rememberLayerBlob(store, diffId, blob, source);
    onProgress({ type: "layer", id, status });
    return pushed(blob, ociLayerMediaType(mediaType), uploaded);
  };
  if ((await client.blobExists(repo, digest)) !== null) return done("Layer already exists", false);
  const known = (await knownLayerBlobs(store, diffId)).find((b) => b.digest === digest);
  const from = known?.sources.find((s) => s.registry === repo.registry && s.repository !== repo.repository);
  if (from && (await client.mountBlob(repo, digest, from.repository)))
    return done(`Mounted from ${from.repository}`, false);
  onProgress({ type: "layer", id, status: "Pushing" });
  await client.uploadBlob(
    repo,
    {
      digest,
      size,
      open: () => createReadStream(stored.file, { signal: job.signal, highWaterMark: READ_BYTES }),
    },
    { onProgress: (current, total) => onProgress({ type: "progress", id, current, total }) },
  );
  return done("Pushed", true);
}

/**
 * Makes sure the repository holds a blob of the layer, sending bytes only as a last resort:
 * a blob known for the layer (the one it was pulled as, or one made for an earlier push) that the
 * repository already has; else one mounted from another repository of the same registry known to
 * hold it; else the layer's directory as a gzip blob, made afresh and uploaded. Given `tarFile`
 * (the layer's kept uncompressed blob), the blob made is that tar compressed, with the same diff ID.
 */
export async function pushLayer(job: PushLayerJob, tarFile?: string): Promise<PushedLayer> {
  const { store, client, repo, diffId, onProgress } = job;
  const id = shortLayerId(diffId);
  const source = { registry: repo.registry, repository: repo.repository };
  const known = (await knownLayerBlobs(store, diffId))
    .flatMap((blob) => {
      const mediaType = ociMediaType(blob.mediaType);
      return mediaType ? [{ blob, mediaType }] : [];
    })
    // A gzip blob the repository has (or can mount) before an uncompressed one.
    .sort((a, b) => Number(a.mediaType === MediaType.OciLayer) - Number(b.mediaType === MediaType.OciLayer));
  for (const { blob, mediaType } of known) {
    if ((await client.blobExists(repo, blob.digest)) === null) continue;
    await rememberLayerBlob(store, diffId, blob, source);
    onProgress({ type: "layer", id, status: "Layer already exists" });
    return pushed(blob, mediaType, false);
  }
  for (const { blob, mediaType } of known) {
    const from = blob.sources.find((s) => s.registry === repo.registry && s.repository !== repo.repository);
    if (!from || !(await client.mountBlob(repo, blob.digest, from.repository))) continue;
    await rememberLayerBlob(store, diffId, blob, source);
    onProgress({ type: "layer", id, status: `Mounted from ${from.repository}` });
    return pushed(blob, mediaType, false);
  }
  const blob = await gzipLayerBlob(store, diffId, tarFile);
  try {
    if (!known.some((k) => k.blob.digest === blob.digest)) {
      if ((await client.blobExists(repo, blob.digest)) !== null) {
        await rememberLayerBlob(store, diffId, blob, source);
        onProgress({ type: "layer", id, status: "Layer already exists" });
        return pushed(blob, blob.mediaType, false);
      }
    }
    onProgress({ type: "layer", id, status: "Pushing" });
    await client.uploadBlob(
      repo,
      {
        digest: blob.digest,
        size: blob.size,
        open: () => createReadStream(blob.file, { signal: job.signal, highWaterMark: READ_BYTES }),
      },
      { onProgress: (current, total) => onProgress({ type: "progress", id, current, total }) },
    );
    await rememberLayerBlob(store, diffId, blob, source);
    onProgress({ type: "layer", id, status: "Pushed" });
    return pushed(blob, blob.mediaType, true);
  } finally {
    await rm(blob.file, { force: true });
  }
}
