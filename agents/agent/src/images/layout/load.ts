import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import {
  type Descriptor,
  digestOf,
  familiarString,
  GUNZIP_INPUT_BYTES,
  type ImageManifest,
  imageIndexSchema,
  LAYER_MEDIA_TYPES,
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  MediaType,
  type ImageConfig as OciImageConfig,
  parseImageConfig,
  parseManifest,
  parseReference,
  unpackLayer,
} from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { z } from "zod";
import { rememberLayerBlob } from "../layer-blob.ts";
import { mapLimited } from "../limited.ts";
import { shortLayerId } from "../pull/events.ts";
import { withLayerLock } from "../pull/layer.ts";
import { hostPlatform, selectManifest, toImageConfig } from "../pull/platform.ts";
import { CONCURRENT_LAYERS, toBerthError } from "../pull/pull.ts";
import { digestHex, normalizeName } from "../reference.ts";
import type { ImageStore } from "../store.ts";
import { whileStreamingImage } from "../streaming.ts";
import { addBlob, memberName, type ReadArchive, readArchive } from "./archive.ts";
import { CONTAINERD_NAME, REF_NAME } from "./save.ts";

/** What a load reports as it goes; `id` is a layer's short blob digest (12 hex), as a pull shows it. */
export type LoadEvent =
  /** Bytes of the archive read so far (its blobs checked and kept); `total` when known. */
  | { type: "reading"; current: number; total: number | null }
  | { type: "layer"; id: string; status: "Loading layer" | "Already exists" | "Loaded" }
  | { type: "progress"; id: string; current: number; total: number };

export interface LoadOptions {
  onProgress?: (event: LoadEvent) => void;
  /** The archive's size in bytes, when known (a file's), for the reading progress. */
  size?: number;
}

/** Progress is reported at most once per this many bytes (and at the end). */
const PROGRESS_STEP_BYTES = 1024 * 1024;

/** Passes `input` through, reporting the bytes that went by every PROGRESS_STEP_BYTES and at its end. */
async function* counted(
  input: AsyncIterable<Uint8Array>,
  report: (current: number) => void,
): AsyncGenerator<Uint8Array> {
  let current = 0;
  let reported = 0;
  for await (const chunk of input) {
    current += chunk.byteLength;
    if (current - reported >= PROGRESS_STEP_BYTES) {
      reported = current;
      report(current);
    }
    yield chunk;
  }
  if (current !== reported) report(current);
}

export interface LoadedImage {
  /** The name the image got, or null (an entry with no name, or a bare tag such as skopeo writes). */
  name: string | null;
  /** The image's digest in the store (its manifest's). */
  digest: string;
}

interface Candidate {
  name: string | null;
  digest: string;
  /** The manifest's media type and size (its blob is kept in the store). */
  mediaType: string;
  size: number;
  manifest: ImageManifest;
  config: OciImageConfig;
}

const bad = (message: string) => new BerthError("InvalidArgument", `not an image archive: ${message}`);

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The config's creation time, when it is a valid date. */
function created(config: OciImageConfig): { createdAt?: string } {
  const at = config.created ? Date.parse(config.created) : Number.NaN;
  return Number.isNaN(at) ? {} : { createdAt: new Date(at).toISOString() };
}

/** A blob of the archive, present and of the size its descriptor says, read when small enough. */
async function blobFile(archive: ReadArchive, d: Descriptor, what: string): Promise<string> {
  const file = archive.blobs.get(d.digest);
  if (!file) throw bad(`${what} ${d.digest} is missing from the archive`);
  const { size } = await stat(file);
  if (size !== d.size) throw bad(`${what} ${d.digest} is ${size} bytes, its descriptor says ${d.size}`);
  return file;
}

async function smallBlob(archive: ReadArchive, d: Descriptor, what: string, limit: number): Promise<Buffer> {
  if (d.size > limit) throw bad(`${what} ${d.digest} is ${d.size} bytes; the limit is ${limit}`);
  return readFile(await blobFile(archive, d, what));
}

/** The name an index entry gives its image: containerd's full name, or an OCI ref.name that is a name:tag. */
export function entryName(annotations: Record<string, string> | undefined): string | null {
  const full = annotations?.[CONTAINERD_NAME];
  if (full) return normalizeName(familiarString(parseReference(full)));
  const ref = annotations?.[REF_NAME];
  if (!ref || !/[:/]/.test(ref)) return null;
  return normalizeName(ref);
}

async function candidate(archive: ReadArchive, entry: Descriptor): Promise<Candidate> {
  const name = entryName(entry.annotations);
  let bytes = await smallBlob(archive, entry, "manifest", MAX_MANIFEST_BYTES);
  let parsed = parseManifest(bytes, entry.mediaType);
  let digest = entry.digest;
  if (parsed.kind === "index") {
    const chosen = selectManifest(parsed.index.manifests, hostPlatform(), name ?? entry.digest);
    bytes = await smallBlob(archive, chosen, "manifest", MAX_MANIFEST_BYTES);
    parsed = parseManifest(bytes, chosen.mediaType);
    digest = chosen.digest;
    if (parsed.kind !== "manifest") throw bad(`${chosen.digest}: an index inside an index`);
  }
  const manifest = parsed.manifest;
  const mediaType = parsed.mediaType;
  const config = parseImageConfig(await smallBlob(archive, manifest.config, "config", MAX_CONFIG_BYTES));
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw bad(
      `${digest} has ${manifest.layers.length} layers but its config lists ${config.rootfs.diff_ids.length}`,
    );
  }
  for (const layer of manifest.layers) {
    if (!(layer.mediaType in LAYER_MEDIA_TYPES)) {
      throw bad(`layer ${layer.digest} has unsupported media type ${layer.mediaType}`);
    }
    await blobFile(archive, layer, "layer");
  }
  return { name, digest, mediaType, size: bytes.length, manifest, config };
}

/** manifest.json of Docker's archive format from before Docker 25: one entry per image. */
const legacyManifestSchema = z.array(
  z.object({
    Config: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    Layers: z.array(z.string()),
  }),
);

/** A RepoTags entry as the store names it: Docker writes "busybox:1", skopeo "docker.io/library/busybox:1". */
function repoTagName(tag: string): string {
  try {
    return normalizeName(familiarString(parseReference(tag)));
  } catch {
    throw bad(`manifest.json has the tag "${tag}", which is not an image name`);
  }
}

/**
 * The images of Docker's archive format from before Docker 25 (and of podman's and skopeo's
 * docker-archive): each manifest.json entry becomes an OCI manifest of its config and its
 * uncompressed layers, one candidate per tag. A layer must be the one its config lists.
 */
async function legacyCandidates(archive: ReadArchive): Promise<Candidate[]> {
  let json: unknown;
  try {
    json = JSON.parse(archive.files.get("manifest.json")!.toString("utf8"));
  } catch (err) {
    throw bad(`manifest.json is not JSON: ${(err as Error).message}`);
  }
  const entries = legacyManifestSchema.safeParse(json);
  if (!entries.success)
    throw bad(`manifest.json is not Docker's image list: ${entries.error.issues[0]?.message}`);
  if (entries.data.length === 0) throw bad("manifest.json names no image");
  const member = (name: string, what: string) => {
    const digest = archive.legacy.get(memberName(name));
    if (!digest) throw bad(`${what} "${name}" is missing from the archive`);
    return digest;
  };
  const result: Candidate[] = [];
  for (const entry of entries.data) {
    const configDigest = member(entry.Config, "config");
    const configBytes = await readFile(archive.blobs.get(configDigest)!);
    const config = parseImageConfig(configBytes);
    if (config.rootfs.diff_ids.length !== entry.Layers.length) {
      throw bad(
        `${entry.Config} lists ${config.rootfs.diff_ids.length} layers; manifest.json gives ${entry.Layers.length}`,
      );
    }
    const layers: Descriptor[] = [];
    for (const [i, name] of entry.Layers.entries()) {
      const digest = member(name, "layer");
      if (digest !== config.rootfs.diff_ids[i]) {
        throw bad(`layer "${name}" is ${digest}, but ${entry.Config} lists ${config.rootfs.diff_ids[i]}`);
      }
      const { size } = await stat(archive.blobs.get(digest)!);
      layers.push({ mediaType: MediaType.OciLayer, digest, size });
    }
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
        layers,
      }),
    );
    const parsed = parseManifest(bytes, MediaType.OciManifest);
    if (parsed.kind !== "manifest") throw bad(`${entry.Config}: not an image`);
    const digest = digestOf(bytes);
    await addBlob(archive, digest, bytes);
    const names = entry.RepoTags?.length ? entry.RepoTags.map(repoTagName) : [null];
    for (const name of names) {
      result.push({
        name,
        digest,
        mediaType: MediaType.OciManifest,
        size: bytes.length,
        manifest: parsed.manifest,
        config,
      });
    }
  }
  return result;
}

/** Every image the archive names (its index.json, or manifest.json in Docker's old format), checked before anything enters the store. */
async function candidates(archive: ReadArchive): Promise<Candidate[]> {
  const layout = archive.files.get("oci-layout");
  if (!layout) {
    if (archive.files.has("manifest.json")) return legacyCandidates(archive);
    throw bad("oci-layout is missing");
  }
  const version = (() => {
    try {
      return (JSON.parse(layout.toString("utf8")) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch {
      return undefined;
    }
  })();
  if (version !== "1.0.0")
    throw bad(`oci-layout has imageLayoutVersion ${JSON.stringify(version)}, not "1.0.0"`);
  const indexBytes = archive.files.get("index.json");
  if (!indexBytes) throw bad("index.json is missing");
  let json: unknown;
  try {
    json = JSON.parse(indexBytes.toString("utf8"));
  } catch (err) {
    throw bad(`index.json is not JSON: ${(err as Error).message}`);
  }
  const index = imageIndexSchema.safeParse(json);
  if (!index.success) throw bad(`index.json is not an image index: ${index.error.issues[0]?.message}`);
  if (index.data.manifests.length === 0) throw bad("index.json names no image");
  const result: Candidate[] = [];
  for (const entry of index.data.manifests) result.push(await candidate(archive, entry));
  return result;
}

/**
 * Unpacks the layers the store lacks into `dir` (checking each diff ID),
 * CONCURRENT_LAYERS at a time as a pull does, and only when all are there
 * moves them into the store, each under its layer lock (a layer another
 * writer placed meanwhile stays theirs).
 */
async function importLayers(
  store: ImageStore,
  archive: ReadArchive,
  images: Candidate[],
  dir: string,
  onProgress: (event: LoadEvent) => void,
) {
  const staged = new Map<string, { blob: Descriptor; target: string }>();
  const present = new Set<string>();
  for (const image of images) {
    for (const [i, layer] of image.manifest.layers.entries()) {
      const diffId = image.config.rootfs.diff_ids[i]!;
      if (staged.has(diffId) || present.has(diffId)) continue;
      if (await exists(store.layerPath(diffId))) {
        present.add(diffId);
        onProgress({ type: "layer", id: shortLayerId(layer.digest), status: "Already exists" });
      } else staged.set(diffId, { blob: layer, target: path.join(dir, digestHex(diffId)) });
    }
  }
  await whileStreamingImage(() =>
    mapLimited([...staged], CONCURRENT_LAYERS, async ([diffId, { blob, target }], signal) => {
      const id = shortLayerId(blob.digest);
      onProgress({ type: "layer", id, status: "Loading layer" });
      // When another layer fails, this one stops reading (and its unpack fails, unreported).
      const file = createReadStream(archive.blobs.get(blob.digest)!, {
        highWaterMark: GUNZIP_INPUT_BYTES, // in the pieces gunzip takes
        signal,
      });
      const input = counted(file, (current) =>
        onProgress({ type: "progress", id, current, total: blob.size }),
      );
      const result = await unpackLayer(input, target, { whiteouts: "overlay" }).finally(() => file.destroy());
      if (result.diffId !== diffId) {
        throw bad(`layer ${blob.digest} unpacks to ${result.diffId}, but the image config says ${diffId}`);
      }
      onProgress({ type: "layer", id, status: "Loaded" });
    }),
  );
  for (const [diffId, { target }] of staged) {
    await withLayerLock(store, diffId, async () => {
      const to = store.layerPath(diffId);
      if (await exists(to)) return;
      await mkdir(path.dirname(to), { recursive: true });
      await rename(target, to);
    });
  }
}

/** Remembers each kept layer blob for its layer (a build on it, or a push, then uses it). */
async function rememberLayers(store: ImageStore, images: Candidate[]): Promise<void> {
  for (const image of images) {
    for (const [i, layer] of image.manifest.layers.entries()) {
      const { digest, size, mediaType } = layer;
      const diffId = image.config.rootfs.diff_ids[i]!;
      await rememberLayerBlob(store, diffId, { digest, size, mediaType, diffId });
    }
  }
}

/**
 * Loads an image archive (OCI layout tarball, as `berth-agent save`,
 * `docker save` since Docker 25 and `skopeo copy … oci-archive:` write it;
 * or Docker's older format, as `docker save` before 25 and `podman save`
 * write it) into the store: every digest checked, every manifest, config and layer
 * verified before the first layer enters the store, layers unpacked once and
 * shared with those already there, then each image recorded with its name.
 */
export async function loadImages(
  store: ImageStore,
  input: AsyncIterable<Uint8Array>,
  options: LoadOptions = {},
): Promise<LoadedImage[]> {
  const onProgress = options.onProgress ?? (() => {});
  const work = path.join(store.tempDir, `load-${randomBytes(8).toString("hex")}`);
  await mkdir(work, { recursive: true });
  try {
    const reading = counted(input, (current) =>
      onProgress({ type: "reading", current, total: options.size ?? null }),
    );
    const archive = await readArchive(reading, path.join(work, "archive"));
    const images = await candidates(archive);
    const diffIds = [...new Set(images.flatMap((i) => i.config.rootfs.diff_ids))];
    const { keepLayerBlobs } = await store.blobs.settings();
    const blobs = [
      ...new Set(
        images.flatMap((i) => [
          i.digest,
          i.manifest.config.digest,
          ...(keepLayerBlobs ? i.manifest.layers.map((l) => l.digest) : []),
        ]),
      ),
    ];
    return await store.holdContent({ layers: diffIds, blobs }, async () => {
      await importLayers(store, archive, images, path.join(work, "layers"), onProgress);
      // The archive's blobs were checked against their names as they were read: kept as they are.
      await store.blobs.putFiles(blobs.map((digest) => ({ digest, file: archive.blobs.get(digest)! })));
      if (keepLayerBlobs) await rememberLayers(store, images);
      const loaded: LoadedImage[] = [];
      for (const image of images) {
        const size = image.manifest.layers.reduce((n, l) => n + l.size, 0);
        const { record } = await store.addImage(
          {
            digest: image.digest,
            layers: image.config.rootfs.diff_ids,
            config: toImageConfig(image.config),
            size,
            ...created(image.config),
            content: {
              mediaType: image.mediaType,
              size: image.size,
              config: image.manifest.config.digest,
              layerBlobs: image.manifest.layers.map((l) => l.digest),
            },
          },
          image.name,
        );
        loaded.push({ name: image.name, digest: record.digest });
      }
      return loaded;
    });
  } catch (err) {
    throw toBerthError(err);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
