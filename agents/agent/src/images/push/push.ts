import {
  familiarString,
  LAYER_MEDIA_TYPES,
  MediaType,
  OciError,
  parseReference,
  type RegistryClient,
} from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { bytesBlob, exportConfig, exportManifest, type StoredContent, storedContent } from "../content.ts";
import { mapLimited } from "../limited.ts";
import { shortLayerId } from "../pull/events.ts";
import { toBerthError } from "../pull/pull.ts";
import { DEFAULT_TAG } from "../reference.ts";
import type { ImageStore } from "../store.ts";
import { whileStreamingImage } from "../streaming.ts";
import type { ImageRecord } from "../types.ts";
import type { PushProgressListener } from "./events.ts";
import { type PushedLayer, pushLayer, pushStoredLayer } from "./layer.ts";

/** Layers pushed at once (Docker's default is 5; uploads here also compress). */
const CONCURRENT_LAYERS = 3;

export interface PushOptions {
  client: RegistryClient;
  onProgress?: PushProgressListener;
}

export interface PushResult {
  /** Where the image went, e.g. "registry.local:5000/shop/web:1". */
  name: string;
  /** The pushed manifest's digest. */
  digest: string;
  /** The manifest's size in bytes. */
  size: number;
  /** Layers this push uploaded (others the registry had, or mounted). */
  uploaded: number;
}

/** The registry reference to push to: `target`, else the local name itself; a tag, never a digest. */
function targetReference(image: string, target: string | undefined) {
  const ref = parseReference(target ?? image);
  if (ref.digest !== undefined) {
    throw new BerthError(
      "InvalidArgument",
      `cannot push to a digest (${familiarString(ref)}); give a tag: NAME[:TAG]`,
    );
  }
  return { ...ref, tag: ref.tag ?? DEFAULT_TAG };
}

/**
 * Pushes a stored image to a registry: each layer the repository lacks (mounted from another
 * repository of the registry when one is known to hold it, else uploaded: its original blob, or one
 * made from its directory), then the image config, then the manifest under the tag. An image whose
 * original blobs are all in the store is sent byte for byte: same manifest and config digests.
 */
export async function pushImage(
  store: ImageStore,
  image: string,
  target: string | undefined,
  options: PushOptions,
): Promise<PushResult> {
  try {
    return await push(store, image, target, options);
  } catch (err) {
    throw toBerthError(err);
  }
}

async function push(
  store: ImageStore,
  image: string,
  target: string | undefined,
  options: PushOptions,
): Promise<PushResult> {
  const ref = targetReference(image, target);
  // Held, so prune cannot take its blobs while they are sent.
  return store.holdImages([image], async ([record]) => pushRecord(store, record!, ref, options));
}

async function pushRecord(
  store: ImageStore,
  record: ImageRecord,
  ref: ReturnType<typeof targetReference>,
  options: PushOptions,
): Promise<PushResult> {
  const onProgress = options.onProgress ?? (() => {});
  const repo = { registry: ref.registry, repository: ref.repository };
  const content = await storedContent(store, record);
  onProgress({
    type: "start",
    repository: `${ref.registry}/${ref.repository}`,
    layers: record.layers.length,
  });
  for (const diffId of record.layers)
    onProgress({ type: "layer", id: shortLayerId(diffId), status: "Preparing" });
  const layers = await whileStreamingImage(() =>
    mapLimited(content.layers, CONCURRENT_LAYERS, ({ diffId, blob }, signal) => {
      const job = { store, client: options.client, repo, diffId, onProgress, signal };
      if (!blob) return pushLayer(job);
      // An uncompressed blob (a load of Docker's old format keeps them) goes compressed, as docker
      // push sends it: the same tar in gzip, so the diff IDs and the config stay; the manifest is new.
      if (LAYER_MEDIA_TYPES[blob.descriptor.mediaType] === "none") return pushLayer(job, blob.file);
      return pushStoredLayer(job, blob);
    }),
  );
  const { config, manifest, mediaType } = documents(content, layers);
  await options.client.pushBlob(repo, { digest: config.digest, size: config.size, open: () => config.bytes });
  const digest = await options.client.putManifest(ref, mediaType, manifest.bytes);
  if (digest !== manifest.digest) {
    throw new OciError("Internal", `the registry stored manifest ${digest}, not ${manifest.digest}`);
  }
  onProgress({ type: "done", tag: ref.tag, digest, size: manifest.size });
  return {
    name: familiarString(ref),
    digest,
    size: manifest.size,
    uploaded: layers.filter((l) => l.uploaded).length,
  };
}

/**
 * The original config and manifest when every layer went as its original blob. Else a new
 * manifest over the layers sent, with the original config while their diff IDs are the stored
 * ones (an uncompressed blob sent as gzip), or a new config with theirs (a directory tarred again).
 */
function documents(content: StoredContent, layers: PushedLayer[]) {
  // Every layer went as its stored blob (so every blob is stored).
  const asStored = layers.every((l, i) => l.descriptor.digest === content.layers[i]?.blob?.descriptor.digest);
  if (asStored && content.manifest && content.config) {
    return {
      config: bytesBlob(content.config),
      manifest: bytesBlob(content.manifest.bytes),
      mediaType: content.manifest.mediaType,
    };
  }
  const sameDiffIds = layers.every((l, i) => l.diffId === content.layers[i]?.diffId);
  const config =
    content.config && sameDiffIds
      ? bytesBlob(content.config)
      : exportConfig(
          content,
          layers.map((l) => l.diffId),
        );
  const manifest = exportManifest(
    config,
    layers.map((l) => l.descriptor),
  );
  return { config, manifest, mediaType: MediaType.OciManifest };
}
