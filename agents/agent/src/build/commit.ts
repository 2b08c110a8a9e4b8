import { hostPlatform, type ImageConfig, type ImageStore, normalizeName } from "../images/index.ts";
import type { BuildState } from "./image-config.ts";
import { type BuildBlobs, blobForStoreLayer } from "./layer/blobs.ts";

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

/**
 * The final image: an OCI config (config, rootfs.diff_ids, history) and
 * manifest (gzip layer blobs) written as build blobs, then one record in
 * the image store under the manifest's digest, then the tags. Nothing is
 * written to the store before every blob exists, so a failure leaves no
 * image and no tag. A rebuild that hit the cache throughout makes the same
 * digest (created = the last step's time).
 */
export async function commitImage(input: CommitInput): Promise<CommittedImage> {
  const { state, blobs, store } = input;
  const layerBlobs = [];
  for (const layer of state.layers) layerBlobs.push(await blobForStoreLayer(layer, blobs, store));
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
    layers: layerBlobs.map((b) => ({ mediaType: OCI_LAYER_GZIP, digest: b.digest, size: b.size })),
  };
  const manifestBlob = await blobs.putJson(manifest);
  const size = state.size ?? layerBlobs.reduce((sum, b) => sum + (b.fileBytes ?? b.size), 0);
  const [first, ...rest] = input.tags;
  const { record } = await store.addImage(
    { digest: manifestBlob.digest, layers: [...state.layers], config: input.storeConfig, size },
    first ?? null,
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
