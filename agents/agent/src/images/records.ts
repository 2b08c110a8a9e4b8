import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { readJson, writeFileAtomic } from "./atomic.ts";
import { digestHex, parseImageRef } from "./reference.ts";
import type { ImageRecord } from "./types.ts";

/** names.json: image name → digest. It is the truth for lookups; each record's `names` follows it. */
export type Names = Record<string, string>;

/** The names `names` gives `digest`, sorted. */
export function namesOf(names: Names, digest: string): string[] {
  return Object.keys(names)
    .filter((n) => names[n] === digest)
    .sort();
}

/**
 * The image store's records (`by-digest/<hex>.json`) and names
 * (`names.json`) on disk: reading them, resolving a reference, pointing a
 * name at an image. Whoever changes them holds the store's lock.
 */
export interface Records {
  readonly dir: string;
  readNames(): Promise<Names>;
  writeNames(names: Names): Promise<void>;
  read(digest: string): Promise<ImageRecord | null>;
  write(record: ImageRecord): Promise<void>;
  remove(digest: string): Promise<void>;
  /** Every record there is. */
  all(): Promise<ImageRecord[]>;
  /** The digest `ref` (a name, a digest or a digest prefix) denotes, or NotFound. */
  find(ref: string, names: Names): Promise<string>;
  /** The record `ref` denotes, with its names. */
  load(ref: string, names: Names): Promise<ImageRecord>;
  /** Points `name` at `digest`, keeping the name lists of both records in step (names.json is written by the caller). */
  setName(names: Names, name: string, digest: string): Promise<void>;
  /** Rewrites a record's name list from `names`. */
  syncNames(names: Names, digest: string): Promise<void>;
}

export function createRecords(root: string): Records {
  const dir = path.join(root, "by-digest");
  const namesFile = path.join(root, "names.json");
  const file = (digest: string) => path.join(dir, `${digestHex(digest)}.json`);
  const read = (digest: string) => readJson<ImageRecord | null>(file(digest), null);

  async function all(): Promise<ImageRecord[]> {
    const files = await readdir(dir).catch(() => [] as string[]);
    const records = await Promise.all(
      files.filter((f) => /^[a-f0-9]{64}\.json$/.test(f)).map((f) => read(`sha256:${f.slice(0, 64)}`)),
    );
    return records.filter((r): r is ImageRecord => r !== null);
  }

  async function find(ref: string, names: Names): Promise<string> {
    for (const candidate of parseImageRef(ref)) {
      if (candidate.kind === "name") {
        if (names[candidate.name]) return names[candidate.name]!;
        continue;
      }
      const matches = (await all()).filter((r) => digestHex(r.digest).startsWith(candidate.hex));
      if (matches.length > 1) {
        throw new BerthError(
          "InvalidArgument",
          `"${ref}" matches ${matches.length} images; give more digits`,
        );
      }
      if (matches[0]) return matches[0].digest;
    }
    throw new BerthError(
      "NotFound",
      `no image "${ref}" in the local store; pull or import it first (berth-agent pull|import)`,
    );
  }

  async function syncNames(names: Names, digest: string): Promise<void> {
    const record = await read(digest);
    if (record)
      await writeFileAtomic(file(digest), JSON.stringify({ ...record, names: namesOf(names, digest) }));
  }

  return {
    dir,
    readNames: () => readJson<Names>(namesFile, {}),
    writeNames: (names) => writeFileAtomic(namesFile, JSON.stringify(names, null, 2)),
    read,
    write: (record) => writeFileAtomic(file(record.digest), JSON.stringify(record)),
    remove: (digest) => rm(file(digest), { force: true }),
    all,
    find,
    async load(ref, names) {
      const digest = await find(ref, names);
      const record = await read(digest);
      if (!record)
        throw new BerthError("NotFound", `image ${digest} has a name but no record; import it again`);
      return { ...record, names: namesOf(names, digest) };
    },
    async setName(names, name, digest) {
      const previous = names[name];
      names[name] = digest;
      if (previous && previous !== digest) await syncNames(names, previous);
      await syncNames(names, digest);
    },
    syncNames,
  };
}
