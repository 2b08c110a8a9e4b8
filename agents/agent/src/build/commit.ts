import {
  type BlobFile,
  hostPlatform,
  type ImageConfig,
  type ImageStore,
  normalizeName,
  storedLayerBlob,
} from "../images/index.ts";
import type { BuildState } from "./image-config.ts";
import { type BuildBlobs, blobForStoreLayer, type LayerBlob } from "./layer/blobs.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

export interface CommitInput {
  state: BuildState;
  tags: string[];
  store: ImageStore;
  blobs: BuildBlobs;
  storeConfig: ImageConfig;
}

export interface CommittedImage {
  digest: string;
  configDigest: string;
  names: string[];
  /** The tags this build set. */
  tagged: string[];
}

/** A blob the image store keeps for a layer (storedLayerBlob). */
type StoredBlob = { digest: string; size: number; mediaType: string };
type CommitBlob = LayerBlob & { mediaType: string; inStore: boolean };

/**
 * A layer's blob: the one the image store keeps for it (a pulled or loaded base, as it came) when
 * it is still there — `held` are the stored blobs leased for this commit — else the build's own.
 */
async function layerBlob(
  store: ImageStore,
  blobs: BuildBlobs,
  diffId: string,
  held: ReadonlyMap<string, StoredBlob>,
): Promise<CommitBlob> {
  const stored = held.get(diffId);
  if (stored && (await store.blobs.has(stored.digest)))
    return { diffId, digest: stored.digest, size: stored.size, mediaType: stored.mediaType, inStore: true };
  const built = await blobs.layerBlob(diffId);
  if (built) return { ...built, mediaType: OCI_LAYER_GZIP, inStore: false };
  return { ...(await blobForStoreLayer(diffId, blobs, store)), mediaType: OCI_LAYER_GZIP, inStore: false };
}

/**
 * The final image: an OCI config (config, rootfs.diff_ids, history) and
 * manifest (gzip layer blobs) written as build blobs, then one record in
 * the image store under the manifest's digest (config, manifest and layer
 * blobs handed to the store's content with it, so a push or save sends
 * them as they are: history and all), then the tags. Nothing is
 * written to the store before every blob exists, so a failure leaves no
 * image and no tag. A rebuild that hit the cache throughout makes the same
 * digest (created = the last step's time). The layers and the base layers'
 * kept blobs are leased meanwhile: a prune cannot take a blob the manifest
 * names (one gone before the lease is replaced by the build's own).
 */
export async function commitImage(input: CommitInput): Promise<CommittedImage> {
  const { state, store } = input;
  const held = new Map<string, StoredBlob>();
  for (const diffId of new Set(state.layers)) {
    const stored = await storedLayerBlob(store, diffId);
    if (stored) held.set(diffId, stored);
  }
  const hold = { layers: [...state.layers], blobs: [...held.values()].map((b) => b.digest) };
  return store.holdContent(hold, () => commitHeld(input, held));
}

async function commitHeld(
  input: CommitInput,
  held: ReadonlyMap<string, StoredBlob>,
): Promise<CommittedImage> {
  const { state, blobs, store } = input;
  const layerBlobs: CommitBlob[] = [];
  for (const layer of state.layers) layerBlobs.push(await layerBlob(store, blobs, layer, held));
  const platform = hostPlatform();
  const created = [...state.history].reverse().find((h) => h.created)?.created ?? new Date(0).toISOString();
  const config = {
    created,
    ...(state.author ? { author: state.author } : {}),
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: state.config,
    rootfs: { type: "layers", diff_ids: layerBlobs.map((b) => b.diffId) },
    history: state.history,
  };
  const configBlob = await blobs.putJson(config);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configBlob.digest, size: configBlob.size },
    layers: layerBlobs.map((b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size })),
  };
  const manifestBlob = await blobs.putJson(manifest);
  const size = state.size ?? layerBlobs.reduce((sum, b) => sum + (b.fileBytes ?? b.size), 0);
  const [first, ...rest] = input.tags;
  const { keepLayerBlobs } = await store.blobs.settings();
  const handed: BlobFile[] = [configBlob, manifestBlob, ...(keepLayerBlobs ? layerBlobs : [])]
    .filter((b) => !("inStore" in b && b.inStore))
    .map((b) => ({ digest: b.digest, file: blobs.blobPath(b.digest), keepSource: true }));
  const content = {
    mediaType: OCI_MANIFEST,
    size: manifestBlob.size,
    config: configBlob.digest,
    layerBlobs: layerBlobs.map((b) => b.digest),
  };
  const { record } = await store.addImage(
    { digest: manifestBlob.digest, layers: [...state.layers], config: input.storeConfig, size, content },
    first ?? null,
    { blobs: handed },
  );
  let names = record.names;
  for (const tag of rest) names = (await store.tag(record.digest, tag)).names;
  return {
    digest: record.digest,
    configDigest: configBlob.digest,
    names,
    tagged: input.tags.map(normalizeName),
  };
}
