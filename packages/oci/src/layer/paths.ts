import { lstatSync, mkdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { OciError } from "../errors.ts";

/** Linux's limits: a path of at most 4096 bytes, each component at most 255. */
export const DEFAULT_MAX_PATH_LENGTH = 4096;
const MAX_COMPONENT_BYTES = 255;

export function refuse(entry: string, why: string): OciError {
  return new OciError("InvalidArgument", `layer entry "${entry}": ${why}`);
}

/**
 * Splits a tar entry name into its components relative to the layer root.
 * `./a//b/` → ["a", "b"]; the root itself → []. Refuses absolute paths, `..`
 * components, NUL bytes and names over the length limits.
 */
export function entryComponents(name: string, maxPathLength = DEFAULT_MAX_PATH_LENGTH): string[] {
  if (name.includes("\0")) throw refuse(name, "path contains a NUL byte");
  if (name.startsWith("/")) throw refuse(name, "absolute path");
  if (Buffer.byteLength(name) > maxPathLength)
    throw refuse(name, `path is longer than ${maxPathLength} bytes`);
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw refuse(name, "path contains a '..' component");
    if (Buffer.byteLength(part) > MAX_COMPONENT_BYTES) {
      throw refuse(name, `a path component is longer than ${MAX_COMPONENT_BYTES} bytes`);
    }
    parts.push(part);
  }
  return parts;
}

/**
 * True when a symlink at `linkComponents` with `target` would point above the
 * root. Absolute targets resolve against the container's root, so they
 * never escape; a relative target escapes when its `..`s climb past the root.
 */
export function symlinkEscapes(linkComponents: readonly string[], target: string): boolean {
  if (target.startsWith("/")) return false;
  let depth = linkComponents.length - 1;
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      depth -= 1;
      if (depth < 0) return true;
    } else {
      depth += 1;
    }
  }
  return false;
}

/** lstat, or null when nothing is there. Synchronous, like the unpacker's other calls (see unpackLayer). */
export function lstatOrNull(path: string): Stats | null {
  return lstatSync(path, { throwIfNoEntry: false }) ?? null;
}

/**
 * Walks `components` below `root` with lstat, refusing any that is a symlink
 * or not a directory. Missing ones are created (mode 0755) when `create`,
 * otherwise the walk stops and returns false ("does not exist").
 * `verified` caches directories already checked; whoever removes or replaces
 * a path must drop it and everything below it (`forgetVerified`).
 */
export function walkDirectories(
  root: string,
  components: readonly string[],
  entry: string,
  create: boolean,
  verified?: Set<string>,
): boolean {
  // A verified directory's parents were verified with it (and are forgotten with it): one lookup
  // for the usual entry, whose parent an earlier one already walked.
  if (components.length > 0 && verified?.has(join(root, ...components))) return true;
  let current = root;
  for (const part of components) {
    current = join(current, part);
    if (verified?.has(current)) continue;
    const st = lstatOrNull(current);
    if (st === null) {
      if (!create) return false;
      mkdirSync(current, { mode: 0o755 });
    } else if (st.isSymbolicLink()) {
      throw refuse(entry, `parent "${part}" is a symlink; entries may not traverse symlinks`);
    } else if (!st.isDirectory()) {
      throw refuse(entry, `parent "${part}" is not a directory`);
    }
    verified?.add(current);
  }
  return true;
}

/** Drops `abs` and every path below it from a `verified` cache. */
export function forgetVerified(verified: Set<string>, abs: string): void {
  const below = `${abs}/`;
  for (const path of verified) {
    if (path === abs || path.startsWith(below)) verified.delete(path);
  }
}
