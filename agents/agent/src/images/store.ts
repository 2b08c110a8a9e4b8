import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { withLockFile } from "./atomic.ts";
import { type BlobFile, type BlobStore, createBlobStore } from "./blobs.ts";
import { contentBlobs, type PruneOptions, type PruneReport, planGarbage, treeSize } from "./gc.ts";
import { type IngestedLayer, ingestDirectory, ingestTarball, unpackLayer } from "./layers.ts";
import { dropLease, readLeases, writeLease } from "./leases.ts";
import { createRecords, type Names, namesOf } from "./records.ts";
import { digestHex, normalizeName, parseImageRef } from "./reference.ts";
import type { ImageConfig, ImageContent, ImageRecord, ResolvedImage } from "./types.ts";

export const DEFAULT_IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface ImportOptions {
  /** The reference to give the image ("busybox" is stored as "busybox:latest"). */
  name: string;
  /** Default ["/bin/sh"]. */
  cmd?: string[];
  entrypoint?: string[];
  /** Added to PATH's default. */
  env?: Record<string, string>;
  workdir?: string;
  user?: string;
}

export interface RemoveOptions {
  /** True when a container uses the image (by digest); such an image is never deleted. */
  inUse: (digest: string) => boolean | Promise<boolean>;
}

export interface RemoveResult {
  untagged: string[];
  /** The digest of the deleted image, or null when only a name was removed. */
  deleted: string | null;
}

/** A pulled image to record: its layers must already be in the store (see layerPath). */
export interface NewImage {
  digest: string;
  /** Layer diff IDs, lowest first. */
  layers: string[];
  config: ImageConfig;
  size: number;
  /** When the image was made (a loaded image keeps its config's); default now. */
  createdAt?: string;
  /** Its original manifest (digest = `digest`), config and layer blobs in the store's blobs. */
  content?: ImageContent;
}

export interface AddImageOptions {
  /** Blob files to bring into the store with the record (under the store's lock, so prune cannot take them first). */
  blobs?: BlobFile[];
}

/** What a lease holds (see leases.ts). */
export interface Hold {
  layers?: string[];
  blobs?: string[];
}

export interface ImageStore {
  /** <stateDir>/images */
  readonly root: string;
  /** Scratch space on the store's filesystem (a rename from it into the store is atomic). */
  readonly tempDir: string;
  /** The content store: blobs/sha256/<hex> (manifests, configs, compressed layers). */
  readonly blobs: BlobStore;
  /** Where a layer with this diff ID (the sha256 of its uncompressed tar) is, or goes, unpacked. */
  layerPath(diffId: string): string;
  /** Record an image whose layers are in place and point `name` (if any) at it; returns the name's previous digest. */
  addImage(
    image: NewImage,
    name: string | null,
    options?: AddImageOptions,
  ): Promise<{ record: ImageRecord; previous: string | null }>;
  importDirectory(dir: string, options: ImportOptions): Promise<ImageRecord>;
  importTarball(file: string, options: ImportOptions): Promise<ImageRecord>;
  resolve(ref: string): Promise<ResolvedImage>;
  inspect(ref: string): Promise<ImageRecord>;
  list(): Promise<ImageRecord[]>;
  tag(ref: string, newName: string): Promise<ImageRecord>;
  remove(ref: string, options: RemoveOptions): Promise<RemoveResult>;
  /**
   * Runs `fn` with the images `refs` denote (resolved under the lock) and
   * keeps them and their layers from removal until it settles: for a save,
   * or a container's creation until its record exists.
   */
  holdImages<T>(refs: string[], fn: (records: ImageRecord[]) => Promise<T>): Promise<T>;
  /** Keeps these layers from the garbage collector while `fn` runs (a pull or a load before its image is recorded). */
  holdLayers<T>(diffIds: string[], fn: () => Promise<T>): Promise<T>;
  /** Keeps layers and blobs from the garbage collector while `fn` runs. */
  holdContent<T>(hold: Hold, fn: () => Promise<T>): Promise<T>;
  /** Removes unused images and every layer no image or lease needs (see planGarbage). */
  prune(options: PruneOptions): Promise<PruneReport>;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

function importConfig(options: ImportOptions): ImageConfig {
  const env = [`PATH=${DEFAULT_IMAGE_PATH}`];
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (key === "" || key.includes("="))
      throw new BerthError("InvalidArgument", `bad environment name "${key}"`);
    const at = env.findIndex((e) => e.startsWith(`${key}=`));
    if (at === -1) env.push(`${key}=${value}`);
    else env[at] = `${key}=${value}`;
  }
  return {
    env,
    cmd: options.cmd ?? ["/bin/sh"],
    entrypoint: options.entrypoint ?? null,
    workdir: options.workdir ?? null,
    user: options.user ?? null,
  };
}

/** An image's digest: sha256 of its layers and config, so the same import twice is the same image. */
function imageDigest(layers: string[], config: ImageConfig): string {
  return `sha256:${createHash("sha256").update(JSON.stringify({ layers, config })).digest("hex")}`;
}

/**
 * The local image store under `<stateDir>/images`: layers unpacked once in
 * layers/sha256/<hex>, image records in by-digest/<hex>.json, and
 * names.json mapping "name:tag" to a digest (both read and written through
 * records.ts), blobs (blobs.ts), leases (leases.ts). Writers take a lock file.
 */
export function createImageStore(stateDir: string): ImageStore {
  const root = path.join(stateDir, "images");
  const dirs = {
    layers: path.join(root, "layers", "sha256"),
    records: path.join(root, "by-digest"), // its files: records.ts
    temp: path.join(root, "tmp"),
    leases: path.join(root, "leases"),
  };
  const lockFile = path.join(root, "lock");
  const layerDir = (digest: string) => path.join(dirs.layers, digestHex(digest));

  const blobs = createBlobStore(root, dirs.temp);
  const catalog = createRecords(root);
  const ensureDirs = () => Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));

  async function commit(layer: IngestedLayer, options: ImportOptions): Promise<ImageRecord> {
    const name = normalizeName(options.name);
    const layerDigest = `sha256:${layer.hex}`;
    const config = importConfig(options);
    const digest = imageDigest([layerDigest], config);
    await unpackLayer(layer, layerDir(layerDigest), dirs.temp);
    return withLockFile(lockFile, async () => {
      await unpackLayer(layer, layerDir(layerDigest), dirs.temp); // a concurrent remove may have taken it
      const names = await catalog.readNames();
      const existing = await catalog.read(digest);
      const record: ImageRecord = existing ?? {
        digest,
        names: [],
        layers: [layerDigest],
        config,
        createdAt: new Date().toISOString(),
        size: layer.size,
      };
      await catalog.write(record);
      await catalog.setName(names, name, digest);
      await catalog.writeNames(names);
      return { ...record, names: namesOf(names, digest) };
    });
  }

  async function importWith(
    ingest: (source: string, temp: string) => Promise<IngestedLayer>,
    source: string,
    options: ImportOptions,
  ): Promise<ImageRecord> {
    normalizeName(options.name);
    await ensureDirs();
    const layer = await ingest(source, dirs.temp);
    try {
      return await commit(layer, options);
    } finally {
      await rm(layer.tarFile, { force: true });
    }
  }

  /** Delete an unused image and the layers no other image shares (under the lock). */
  async function deleteImage(record: ImageRecord, names: Names): Promise<string[]> {
    const untagged = namesOf(names, record.digest);
    for (const name of untagged) delete names[name];
    await catalog.writeNames(names);
    await catalog.remove(record.digest);
    const leases = await readLeases(dirs.leases);
    const others = await catalog.all();
    const stillUsed = new Set([...others.flatMap((r) => r.layers), ...leases.layers]);
    for (const layer of record.layers.filter((l) => !stillUsed.has(l))) {
      const doomed = await detachLayer(layer);
      if (doomed) await rm(doomed, { recursive: true, force: true });
    }
    const named = new Set([...others.flatMap(contentBlobs), ...leases.blobs]);
    await blobs.remove(contentBlobs(record).filter((b) => !named.has(b)));
    return untagged;
  }

  /** Moves a layer directory out of the store (atomic); the caller deletes what it returns. */
  async function detachLayer(diffId: string): Promise<string | null> {
    const doomed = path.join(dirs.temp, `deleted-${digestHex(diffId)}-${randomBytes(4).toString("hex")}`);
    const moved = await rename(layerDir(diffId), doomed).then(
      () => doomed,
      () => null,
    );
    // What push remembers about the layer's blobs (layer-blob.ts) goes with it.
    await rm(path.join(root, "layer-blobs", `${digestHex(diffId)}.json`), { force: true });
    return moved;
  }

  async function holdWith<T>(
    lease: () => Promise<{ images: string[]; layers: string[]; blobs?: string[] }>,
    fn: () => Promise<T>,
  ) {
    await ensureDirs();
    const file = await withLockFile(lockFile, async () => writeLease(dirs.leases, await lease()));
    try {
      return await fn();
    } finally {
      await dropLease(file);
    }
  }

  async function prune(options: PruneOptions): Promise<PruneReport> {
    await ensureDirs();
    const dryRun = options.dryRun ?? false;
    const { plan, detached, removedBlobs } = await withLockFile(lockFile, async () => {
      const leases = await readLeases(dirs.leases);
      const usedImages = new Set(await options.usedImages());
      const names = await catalog.readNames();
      const layerDirs = (await readdir(dirs.layers))
        .filter((f) => /^[a-f0-9]{64}$/.test(f))
        .map((f) => `sha256:${f}`);
      const plan = planGarbage({
        records: await catalog.all(),
        names,
        layerDirs,
        blobs: await blobs.list(),
        usedImages,
        leasedImages: leases.images,
        leasedLayers: leases.layers,
        leasedBlobs: leases.blobs,
        all: options.all ?? false,
      });
      const detached = new Map<string, string>();
      if (dryRun) return { plan, detached, removedBlobs: [] };
      for (const image of plan.images) for (const name of image.names) delete names[name];
      await catalog.writeNames(names);
      for (const image of plan.images) await catalog.remove(image.digest);
      for (const diffId of plan.layers) {
        const doomed = await detachLayer(diffId);
        if (doomed) detached.set(diffId, doomed);
      }
      // Unlinked under the lock: a pull that leases a blob after this cannot lose it.
      const removedBlobs = await blobs.remove(plan.blobs);
      for (const file of leases.stale) await dropLease(file);
      return { plan, detached, removedBlobs };
    });
    const prunedBlobs = dryRun
      ? await Promise.all(
          plan.blobs.map(async (digest) => ({
            digest,
            size: await stat(blobs.path(digest)).then(
              (s) => s.size,
              () => 0,
            ),
          })),
        )
      : [];
    const layers = [];
    for (const diffId of plan.layers) {
      const dir = dryRun ? layerDir(diffId) : detached.get(diffId);
      if (dir === undefined) continue;
      layers.push({ diffId, size: await treeSize(dir) });
      if (!dryRun) await rm(dir, { recursive: true, force: true });
    }
    if (!dryRun) {
      // Layers a crashed removal left behind.
      for (const f of await readdir(dirs.temp)) {
        if (f.startsWith("deleted-")) await rm(path.join(dirs.temp, f), { recursive: true, force: true });
      }
    }
    const reclaimed =
      layers.reduce((n, l) => n + l.size, 0) +
      [...prunedBlobs, ...removedBlobs].reduce((n, b) => n + b.size, 0);
    return { images: plan.images, layers, blobs: dryRun ? prunedBlobs : removedBlobs, reclaimed, dryRun };
  }

  async function addImage(image: NewImage, name: string | null, options: AddImageOptions = {}) {
    const normalized = name === null ? null : normalizeName(name);
    await ensureDirs();
    return withLockFile(lockFile, async () => {
      await blobs.putFiles(options.blobs ?? []);
      const content = image.content;
      for (const digest of content ? [image.digest, content.config] : []) {
        if (!(await blobs.has(digest))) {
          throw new BerthError(
            "Unavailable",
            `blob ${digest} was removed while the image was stored; pull again`,
          );
        }
      }
      for (const layer of image.layers) {
        if (!(await exists(layerDir(layer)))) {
          throw new BerthError(
            "Unavailable",
            `layer ${layer} was removed while the image was pulled; pull again`,
          );
        }
      }
      const names = await catalog.readNames();
      const previous = normalized === null ? null : (names[normalized] ?? null);
      const existing = await catalog.read(image.digest);
      const record: ImageRecord = existing
        ? { ...existing, ...(existing.content || !content ? {} : { content }) }
        : { ...image, names: [], createdAt: image.createdAt ?? new Date().toISOString() };
      await catalog.write(record);
      if (normalized !== null) await catalog.setName(names, normalized, image.digest);
      await catalog.writeNames(names);
      return { record: { ...record, names: namesOf(names, image.digest) }, previous };
    });
  }

  return {
    root,
    tempDir: dirs.temp,
    prune,
    blobs,
    holdLayers: (diffIds, fn) => holdWith(async () => ({ images: [], layers: diffIds }), fn),
    holdContent: (hold, fn) =>
      holdWith(async () => ({ images: [], layers: hold.layers ?? [], blobs: hold.blobs ?? [] }), fn),
    holdImages(refs, fn) {
      let records: ImageRecord[] = [];
      return holdWith(
        async () => {
          const names = await catalog.readNames();
          records = [];
          for (const ref of refs) records.push(await catalog.load(ref, names));
          return {
            images: records.map((r) => r.digest),
            layers: records.flatMap((r) => r.layers),
            blobs: records.flatMap(contentBlobs),
          };
        },
        () => fn(records),
      );
    },
    layerPath: layerDir,
    addImage,
    importDirectory: (dir, options) => importWith(ingestDirectory, dir, options),
    importTarball: (file, options) => importWith(ingestTarball, file, options),

    async resolve(ref) {
      const record = await catalog.load(ref, await catalog.readNames());
      return {
        digest: record.digest,
        names: record.names,
        layerDirs: record.layers.map(layerDir),
        config: record.config,
      };
    },

    async inspect(ref) {
      return catalog.load(ref, await catalog.readNames());
    },

    async list() {
      const names = await catalog.readNames();
      const records = await catalog.all();
      return records
        .map((r) => ({ ...r, names: namesOf(names, r.digest) }))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.digest.localeCompare(b.digest));
    },

    async tag(ref, newName) {
      const name = normalizeName(newName);
      await ensureDirs();
      return withLockFile(lockFile, async () => {
        const names = await catalog.readNames();
        const record = await catalog.load(ref, names);
        await catalog.setName(names, name, record.digest);
        await catalog.writeNames(names);
        return { ...record, names: namesOf(names, record.digest) };
      });
    },

    async remove(ref, options) {
      await ensureDirs();
      return withLockFile(lockFile, async () => {
        const names = await catalog.readNames();
        const record = await catalog.load(ref, names);
        const byName = parseImageRef(ref).find((c) => c.kind === "name" && names[c.name] === record.digest);
        if (byName?.kind === "name" && record.names.length > 1) {
          delete names[byName.name];
          await catalog.syncNames(names, record.digest);
          await catalog.writeNames(names);
          return { untagged: [byName.name], deleted: null };
        }
        if (
          (await options.inUse(record.digest)) ||
          (await readLeases(dirs.leases)).images.has(record.digest)
        ) {
          throw new BerthError(
            "FailedPrecondition",
            `image ${ref} (${record.digest.slice(0, 19)}) is used by a container; remove the container first`,
          );
        }
        return { untagged: await deleteImage(record, names), deleted: record.digest };
      });
    },
  };
}
