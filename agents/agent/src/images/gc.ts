import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import type { ImageRecord } from "./types.ts";

export interface PruneOptions {
  /** Remove every image no container uses, not only untagged ones (`prune -a`). */
  all?: boolean;
  /** Report what would go, remove nothing. */
  dryRun?: boolean;
  /**
   * Digests of the images containers (in any state) use. Called while the
   * store is locked, after the leases are read: a container created from an
   * image holds a lease until its record exists, so it is seen one way or
   * the other.
   */
  usedImages: () => Promise<Iterable<string>>;
}

export interface PrunedImage {
  digest: string;
  /** Names it had (prune -a removes tagged images too). */
  names: string[];
}

export interface PrunedLayer {
  diffId: string;
  /** Bytes of its files. */
  size: number;
}

export interface PrunedBlob {
  digest: string;
  size: number;
}

export interface PruneReport {
  images: PrunedImage[];
  layers: PrunedLayer[];
  /** Manifests, configs and compressed layers no remaining image names. */
  blobs: PrunedBlob[];
  /** Sum of the removed layers' and blobs' sizes. */
  reclaimed: number;
  dryRun: boolean;
}

export interface GarbageInput {
  records: ImageRecord[];
  /** Name → digest (names.json). */
  names: Record<string, string>;
  /** Diff IDs of the layer directories in the store. */
  layerDirs: string[];
  /** Digests of the blobs in the store. */
  blobs: string[];
  usedImages: ReadonlySet<string>;
  leasedImages: ReadonlySet<string>;
  leasedLayers: ReadonlySet<string>;
  leasedBlobs: ReadonlySet<string>;
  all: boolean;
}

export interface GarbagePlan {
  images: PrunedImage[];
  /** Diff IDs of the layer directories to remove. */
  layers: string[];
  /** Digests of the blobs to remove. */
  blobs: string[];
}

/** The blobs an image's record names: its manifest, config and layer blobs. */
export function contentBlobs(record: ImageRecord): string[] {
  const c = record.content;
  return c ? [record.digest, c.config, ...c.layerBlobs] : [];
}

/**
 * What a collection removes, decided from a snapshot (no I/O): images that
 * are untagged (or, with `all`, any) and neither used by a container nor
 * leased; then every layer directory no remaining image lists and no lease
 * holds. A layer a container uses is always kept: its image is kept.
 */
export function planGarbage(input: GarbageInput): GarbagePlan {
  const namesOf = (digest: string) =>
    Object.keys(input.names)
      .filter((n) => input.names[n] === digest)
      .sort();
  const images: PrunedImage[] = [];
  const kept: ImageRecord[] = [];
  for (const record of input.records) {
    const names = namesOf(record.digest);
    const protectedImage = input.usedImages.has(record.digest) || input.leasedImages.has(record.digest);
    if (!protectedImage && (input.all || names.length === 0)) images.push({ digest: record.digest, names });
    else kept.push(record);
  }
  const referenced = new Set([...kept.flatMap((r) => r.layers), ...input.leasedLayers]);
  const layers = input.layerDirs.filter((diffId) => !referenced.has(diffId)).sort();
  const named = new Set([...kept.flatMap(contentBlobs), ...input.leasedBlobs]);
  const blobs = input.blobs.filter((digest) => !named.has(digest)).sort();
  images.sort((a, b) => a.digest.localeCompare(b.digest));
  return { images, layers, blobs };
}

/** Bytes of the regular files under `dir` (a hard link counted once). */
export async function treeSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (at: string): Promise<void> => {
    const names = await readdir(at).catch(() => [] as string[]);
    for (const name of names) {
      const child = path.join(at, name);
      const st = await lstat(child).catch(() => null);
      if (st === null) continue;
      if (st.isDirectory()) await walk(child);
      else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && seen.has(key)) continue;
        seen.add(key);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}
