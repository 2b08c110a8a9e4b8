import {
  type Descriptor,
  type FetchedManifest,
  familiarString,
  type ImageManifest,
  type ImageReference,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MAX_CONFIG_BYTES,
  OciError,
  type ImageConfig as OciImageConfig,
  parseImageConfig,
  parseManifest,
  parseReference,
  type RegistryClient,
  verifyDigest,
} from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { mapLimited } from "../limited.ts";
import type { ImageStore } from "../store.ts";
import { whileStreamingImage } from "../streaming.ts";
import type { ImageRecord } from "../types.ts";
import { type ProgressListener, shortLayerId } from "./events.ts";
import { ensureLayer } from "./layer.ts";
import { hostPlatform, type PlatformSpec, selectManifest, toImageConfig } from "./platform.ts";

const ACCEPT = [...MANIFEST_MEDIA_TYPES, ...INDEX_MEDIA_TYPES];
/**
 * Layers downloaded (or, by a load, unpacked) at once; Docker's default is 3.
 * On the pull bench 1 or 2 at a time were 10% and 3% slower: while one layer
 * waits for the network or for gunzip, another has work for the main thread.
 */
export const CONCURRENT_LAYERS = 3;

export interface PullOptions {
  client: RegistryClient;
  /** Default: this host's (linux/amd64 on x86-64). */
  platform?: PlatformSpec;
  onProgress?: ProgressListener;
}

export interface PullResult {
  record: ImageRecord;
  /** The name the image got ("busybox:latest"), or null for a pull by digest alone. */
  name: string | null;
  /** The digest of what the reference points at (an index's, for a multi-platform image). */
  digest: string;
  /** True when the name pointed at this image already. */
  upToDate: boolean;
  /** Layers this call downloaded. */
  downloaded: number;
}

/** The image manifest for `platform`, following an index when the reference names one. */
async function resolveManifest(
  client: RegistryClient,
  ref: ImageReference,
  platform: PlatformSpec,
): Promise<{ top: FetchedManifest; chosen: FetchedManifest; manifest: ImageManifest }> {
  const top = await client.getManifest(ref, ACCEPT);
  const parsed = parseManifest(top.bytes, top.mediaType);
  if (parsed.kind === "manifest") {
    return { top, chosen: { ...top, mediaType: parsed.mediaType }, manifest: parsed.manifest };
  }
  const chosen = selectManifest(parsed.index.manifests, platform, familiarString(ref));
  const child = await client.getManifest({ ...ref, digest: chosen.digest }, ACCEPT);
  const inner = parseManifest(child.bytes, child.mediaType);
  if (inner.kind !== "manifest") {
    throw new OciError("InvalidArgument", `${chosen.digest}: an index inside an index is not supported`);
  }
  return { top, chosen: { ...child, mediaType: inner.mediaType }, manifest: inner.manifest };
}

async function fetchConfig(
  client: RegistryClient,
  ref: ImageReference,
  config: Descriptor,
): Promise<{ config: OciImageConfig; bytes: Buffer }> {
  if (config.size > MAX_CONFIG_BYTES) {
    throw new OciError(
      "InvalidArgument",
      `image config is ${config.size} bytes; the limit is ${MAX_CONFIG_BYTES}`,
    );
  }
  const { stream } = await client.getBlob(ref, config.digest);
  const chunks: Buffer[] = [];
  const collect = async function* () {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      yield chunk;
    }
  };
  try {
    await verifyDigest(collect(), config.digest, { maxBytes: MAX_CONFIG_BYTES, expectedSize: config.size });
  } finally {
    stream.destroy();
  }
  const bytes = Buffer.concat(chunks);
  return { config: parseImageConfig(bytes), bytes };
}

function checkLayers(manifest: ImageManifest, config: OciImageConfig, ref: string): string[] {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new OciError(
      "InvalidArgument",
      `${ref}: the manifest has ${manifest.layers.length} layers but the config lists ${diffIds.length} diff IDs`,
    );
  }
  return diffIds;
}

/**
 * Pulls `refText` into the store: manifest (an index resolved to the
 * platform's manifest), config, and each layer not already unpacked —
 * verified by digest and unpacked with overlay whiteouts into its own
 * directory keyed by diff ID, shared with every image that has it.
 */
export async function pullImage(
  store: ImageStore,
  refText: string,
  options: PullOptions,
): Promise<PullResult> {
  try {
    return await pull(store, refText, options);
  } catch (err) {
    throw toBerthError(err);
  }
}

async function pull(store: ImageStore, refText: string, options: PullOptions): Promise<PullResult> {
  const ref = parseReference(refText);
  const onProgress = options.onProgress ?? (() => {});
  const shown = familiarString(ref);
  const { top, chosen, manifest } = await resolveManifest(
    options.client,
    ref,
    options.platform ?? hostPlatform(),
  );
  onProgress({ type: "resolved", ref: shown, digest: top.digest, layers: manifest.layers.length });
  const digest = chosen.digest;
  const { config, bytes: configBytes } = await fetchConfig(options.client, ref, manifest.config);
  const diffIds = checkLayers(manifest, config, shown);
  for (const layer of manifest.layers)
    onProgress({ type: "layer", id: shortLayerId(layer.digest), status: "Pulling fs layer" });
  let downloaded = 0;
  const name =
    ref.tag === undefined
      ? null
      : familiarString({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
  const size = manifest.layers.reduce((sum, l) => sum + l.size, 0);
  const { keepLayerBlobs } = await store.blobs.settings();
  const layerBlobs = manifest.layers.map((l) => l.digest);
  // The lease keeps the garbage collector off layers and blobs stored before the image is recorded.
  const hold = { layers: diffIds, blobs: [digest, manifest.config.digest, ...layerBlobs] };
  const { record, previous } = await store.holdContent(hold, async () => {
    await putDocument(store, chosen.bytes, digest);
    await putDocument(store, configBytes, manifest.config.digest);
    await whileStreamingImage(() =>
      mapLimited(
        manifest.layers.map((layer, i) => ({ layer, diffId: diffIds[i]! })),
        CONCURRENT_LAYERS,
        async ({ layer, diffId }, signal) => {
          const repo = { registry: ref.registry, repository: ref.repository };
          const job = {
            store,
            client: options.client,
            repo,
            layer,
            diffId,
            onProgress,
            keepBlob: keepLayerBlobs,
            signal,
          };
          if (await ensureLayer(job)) downloaded += 1;
        },
      ),
    );
    const content = {
      mediaType: chosen.mediaType,
      size: chosen.bytes.length,
      config: manifest.config.digest,
      layerBlobs,
    };
    return store.addImage({ digest, layers: diffIds, config: toImageConfig(config), size, content }, name);
  });
  const upToDate = previous === digest && downloaded === 0;
  onProgress({
    type: "done",
    ref: shown,
    digest: top.digest,
    status: upToDate ? "up-to-date" : "downloaded",
  });
  return { record, name, digest: top.digest, upToDate, downloaded };
}

/** Keeps a manifest or config, as fetched (its digest was checked), in the store's blobs. */
async function putDocument(store: ImageStore, bytes: Buffer, digest: string): Promise<void> {
  const stored = await store.blobs.putBytes(bytes);
  if (stored !== digest) throw new OciError("Internal", `blob ${digest} was stored as ${stored}`);
}

/** BerthError for an OciError (the agent's edge), keeping the code and cause. */
export function toBerthError(err: unknown): unknown {
  return err instanceof OciError ? new BerthError(err.code, err.message, { cause: err }) : err;
}
