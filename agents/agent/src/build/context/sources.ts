import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { EventLoopTurns } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { resolveInRoot } from "../../runtime/spec/index.ts";
import { type IgnoreMatcher, patternRegex } from "./dockerignore.ts";

/**
 * What a COPY or ADD takes from a tree (the build context, or another
 * stage's root): its source patterns matched (Go's filepath.Match per path
 * component), each match expanded to the entries to copy, with paths
 * relative to the destination.
 */

export interface SourceEntry {
  /** Host path to read. */
  abs: string;
  /** Path below the destination ("" for a single file copied to the destination itself). */
  rel: string;
  stats: Stats;
}

export interface SelectedSource {
  /** The matched path, relative to the tree root. */
  match: string;
  stats: Stats;
  /** The entries to copy, parents before children; a directory's contents, not the directory itself. */
  entries: SourceEntry[];
}

export interface Tree {
  root: string;
  /** The build context hides what .dockerignore lists; another stage's root hides nothing. */
  ignore: IgnoreMatcher | null;
  /** Follow symlinks in source paths (inside the root), as COPY --from does. */
  followLinks: boolean;
}

const WILDCARD = /[*?[]/;

function hidden(tree: Tree, rel: string, stats: Stats): boolean {
  if (!tree.ignore || rel === "") return false;
  if (!tree.ignore.ignores(rel)) return false;
  // An ignored directory may still hold an exception ("!dir/keep").
  return !(stats.isDirectory() && tree.ignore.hasExceptions);
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * The names in a directory, sorted. A name that is not UTF-8 cannot be given back to the file
 * system as a string (Node would look up other bytes), so it is refused by name, unless
 * .dockerignore hides it.
 */
function names(tree: Tree, abs: string, dirRel: string): string[] {
  const result: string[] = [];
  for (const raw of readdirSync(abs, { encoding: "buffer" })) {
    const name = raw.toString("utf8");
    if (isUtf8(raw)) {
      result.push(name);
      continue;
    }
    const rel = dirRel === "" ? name : `${dirRel}/${name}`;
    if (tree.ignore?.ignores(rel)) continue;
    throw new BerthError(
      "InvalidArgument",
      `${JSON.stringify(rel)}: the file name is not UTF-8 (bytes ${raw.toString("hex")}); rename it or leave it out with .dockerignore`,
    );
  }
  return result.sort();
}

/**
 * Every entry below `dir` (rel to the tree), sorted, parents first, ignored ones left out. The walk
 * and the hashing below use synchronous calls, as COPY does: a context is thousands of small
 * files, and a trip to the thread pool for every lstat, open, read and close left the main thread
 * waiting most of the time (5 s of a 300 MB context's 17 s build).
 */
function walk(tree: Tree, dirRel: string, out: SourceEntry[], base: string): void {
  const abs = path.join(tree.root, dirRel);
  for (const name of names(tree, abs, dirRel)) {
    const rel = dirRel === "" ? name : `${dirRel}/${name}`;
    const stats = lstatSync(path.join(abs, name));
    if (hidden(tree, rel, stats)) continue;
    const below = base === "" ? name : `${base}/${name}`;
    if (stats.isDirectory()) {
      const before = out.length;
      out.push({ abs: path.join(abs, name), rel: below, stats });
      walk(tree, rel, out, below);
      // A directory that is itself ignored is only there for the exceptions below it.
      if (tree.ignore?.ignores(rel) && out.length === before + 1) out.pop();
    } else out.push({ abs: path.join(abs, name), rel: below, stats });
  }
}

/** Paths in the tree matching `pattern` (relative, cleaned, may hold wildcards). */
async function match(tree: Tree, pattern: string): Promise<string[]> {
  const parts = pattern === "." ? [] : pattern.split("/");
  let current = [""];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of current) {
      if (!WILDCARD.test(part)) {
        next.push(dir === "" ? part : `${dir}/${part}`);
        continue;
      }
      const regex = patternRegex(part);
      const names = await readdir(path.join(tree.root, dir)).catch(() => [] as string[]);
      for (const name of names.sort()) if (regex.test(name)) next.push(dir === "" ? name : `${dir}/${name}`);
    }
    current = next;
  }
  return current;
}

/** Clean a source path: relative to the tree root, never above it. */
export function cleanSource(source: string): string {
  const cleaned = path.posix.normalize(`/${source}`).slice(1).replace(/\/+$/, "");
  return cleaned === "" ? "." : cleaned;
}

/** Resolve the COPY/ADD sources; NotFound names the first one that matches nothing. */
export async function selectSources(tree: Tree, sources: readonly string[]): Promise<SelectedSource[]> {
  const selected: SelectedSource[] = [];
  for (const source of sources) {
    const pattern = cleanSource(source);
    const found: SelectedSource[] = [];
    for (const rel of await match(tree, pattern)) {
      let abs = rel === "." || rel === "" ? tree.root : path.join(tree.root, rel);
      if (tree.followLinks) abs = await resolveInRoot(tree.root, rel);
      const linkOrStats = lstatOrNull(abs);
      const stats = tree.followLinks && linkOrStats?.isSymbolicLink() ? null : linkOrStats;
      if (!stats || hidden(tree, rel === "." ? "" : rel, stats)) continue;
      const entries: SourceEntry[] = [];
      if (stats.isDirectory()) {
        const relInTree = path.relative(tree.root, abs);
        walk(tree, relInTree === "" ? "" : relInTree, entries, "");
      } else entries.push({ abs, rel: "", stats });
      found.push({ match: rel, stats, entries });
    }
    if (found.length === 0) {
      throw new BerthError(
        "NotFound",
        `"${source}" not found${tree.ignore ? " in the build context (or excluded by .dockerignore)" : ""}`,
      );
    }
    selected.push(...found);
  }
  return selected;
}

const HASH_READ_BYTES = 1024 * 1024;

/** A file's sha256 (hex), read into `buf`. */
async function fileHash(file: string, buf: Buffer, turns: EventLoopTurns): Promise<string> {
  const hash = createHash("sha256");
  const fd = openSync(file, "r");
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      hash.update(buf.subarray(0, n));
      await turns.add(n);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/**
 * A content hash of what the sources select: each entry's path, type, mode,
 * owner, size and contents (or link target). The cache key of a COPY/ADD.
 */
export async function sourcesHash(selected: readonly SelectedSource[]): Promise<string> {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(HASH_READ_BYTES);
  const turns = new EventLoopTurns();
  for (const source of selected) {
    hash.update(`source ${source.match}\n`);
    for (const { abs, rel, stats } of source.entries) {
      const kind = stats.isDirectory() ? "d" : stats.isSymbolicLink() ? "l" : stats.isFile() ? "f" : "o";
      const body = kind === "f" ? await fileHash(abs, buf, turns) : kind === "l" ? readlinkSync(abs) : "";
      hash.update(
        `${kind} ${JSON.stringify(rel)} ${stats.mode} ${stats.uid}:${stats.gid} ${stats.size} ${body}\n`,
      );
    }
  }
  return `sha256:${hash.digest("hex")}`;
}
