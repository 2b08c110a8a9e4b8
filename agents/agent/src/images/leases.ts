import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { readJson, writeFileAtomic } from "./atomic.ts";

/**
 * A lease keeps images and layers from the garbage collector while some work
 * needs them before (or without) an image record naming them: a pull or a
 * load between unpacking a layer and recording the image, a save, a
 * container being created. One file per lease under images/leases, holding
 * the pid of its process; a dead process's lease counts for nothing.
 * Leases are written under the store's lock, which the collector holds
 * while it decides, so it sees every lease taken before it started.
 */
export interface Lease {
  pid: number;
  /** Image digests. */
  images: string[];
  /** Layer diff IDs. */
  layers: string[];
  /** Blob digests (manifests, configs, compressed layers) written before their image's record. */
  blobs?: string[];
}

export interface LeaseSet {
  images: Set<string>;
  layers: Set<string>;
  blobs: Set<string>;
  /** Files of leases whose process is gone. */
  stale: string[];
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Writes a lease file (call under the store lock); returns its path. */
export async function writeLease(dir: string, lease: Omit<Lease, "pid">): Promise<string> {
  const file = path.join(dir, `${process.pid}-${randomBytes(6).toString("hex")}.json`);
  await writeFileAtomic(file, JSON.stringify({ pid: process.pid, ...lease }));
  return file;
}

export async function dropLease(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** The live leases in `dir`. */
export async function readLeases(dir: string): Promise<LeaseSet> {
  const result: LeaseSet = { images: new Set(), layers: new Set(), blobs: new Set(), stale: [] };
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const name of files.filter((f) => f.endsWith(".json"))) {
    const file = path.join(dir, name);
    const lease = await readJson<Lease | null>(file, null);
    if (lease === null) continue;
    if (!Number.isSafeInteger(lease.pid) || !processAlive(lease.pid)) {
      result.stale.push(file);
      continue;
    }
    for (const image of lease.images ?? []) result.images.add(image);
    for (const layer of lease.layers ?? []) result.layers.add(layer);
    for (const blob of lease.blobs ?? []) result.blobs.add(blob);
  }
  return result;
}
