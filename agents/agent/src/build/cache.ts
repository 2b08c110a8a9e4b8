import { mkdir } from "node:fs/promises";
import path from "node:path";
import { readJson, writeFileAtomic } from "../images/index.ts";
import { type ContainerDefaults, canonicalJson, type HistoryEntry, sha256 } from "./image-config.ts";
import type { LayerBlob } from "./layer/blobs.ts";

/**
 * The layer cache: what a step produced, keyed by everything that decides
 * it — the state it ran on (layers and config), the instruction after
 * substitution, the build args in effect and, for COPY/ADD, a hash of the
 * selected files. Entries live in `<stateDir>/build/cache/<hex>.json`.
 */

export interface CacheKeyInput {
  /** stateId() of the state before the step. */
  parent: string;
  /** The instruction after substitution (its created_by). */
  instruction: string;
  /** Build args in effect: [name, value], any order. */
  args: [string, string][];
  /** For COPY/ADD: sourcesHash() of what they select. */
  content: string | null;
  /** For RUN: the network it ran with. */
  network?: string;
}

export function cacheKey(input: CacheKeyInput): string {
  const args = [...input.args].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(canonicalJson({ v: 1, ...input, args, network: input.network ?? null }));
}

export interface CacheEntry {
  /** The layer the step added, or null for a step that changed only the config. */
  layer: LayerBlob | null;
  config: ContainerDefaults;
  author?: string;
  /** The step's history entry, or null (ARG). */
  history: HistoryEntry | null;
}

export interface BuildCache {
  get(key: string): Promise<CacheEntry | null>;
  put(key: string, entry: CacheEntry): Promise<void>;
}

export function createBuildCache(stateDir: string): BuildCache {
  const dir = path.join(stateDir, "build", "cache");
  const file = (key: string) => path.join(dir, `${key}.json`);
  return {
    get: (key) => readJson<CacheEntry | null>(file(key), null),
    async put(key, entry) {
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(file(key), JSON.stringify(entry));
    },
  };
}
