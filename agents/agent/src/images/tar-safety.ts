import path from "node:path";
import { BerthError } from "@berth/protocol";

/** One tar member as the scanner read it (names already from PAX / GNU long names). */
export interface TarEntry {
  path: string;
  linkpath: string;
  /** The ustar typeflag: "0" file, "1" hard link, "2" symlink, "3"/"4" devices, "5" dir, "6" fifo, "7" file. */
  type: string;
  size: number;
}

/** What earlier entries of the archive made, to judge later ones. */
export interface TarSafety {
  /** Paths (normalised, relative) that are symbolic links. */
  symlinks: Set<string>;
}

const ALLOWED_TYPES: Record<string, string> = {
  "0": "file",
  "7": "file",
  "1": "hard link",
  "2": "symlink",
  "5": "directory",
  "6": "fifo",
};

function refuse(entry: string, why: string): never {
  throw new BerthError("InvalidArgument", `unsafe tar entry "${entry}": ${why}`);
}

/** The entry's path relative to the root ("" for the root itself), refusing absolute paths and "..". */
export function normaliseEntryPath(name: string): string {
  if (name.startsWith("/")) refuse(name, "absolute path");
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) refuse(name, 'path contains ".."');
  return parts.join("/");
}

/** Refuse a path one of whose parent directories is a symlink made earlier in the archive. */
function checkNoSymlinkParent(display: string, rel: string, safety: TarSafety): void {
  const parts = rel.split("/");
  for (let i = 1; i < parts.length; i += 1) {
    const parent = parts.slice(0, i).join("/");
    if (safety.symlinks.has(parent)) refuse(display, `goes through the symlink "${parent}"`);
  }
}

/**
 * A relative symlink must stay inside the root when resolved from its own
 * directory. Absolute targets are allowed — in a container they resolve
 * inside its root (busybox's /bin/sh -> /bin/busybox) — since no entry may
 * pass through a symlink, unpacking never follows one.
 */
function checkSymlinkTarget(display: string, rel: string, target: string): void {
  if (target === "") refuse(display, "symlink with an empty target");
  if (target.startsWith("/")) return;
  const climbs = path.posix.join(path.posix.dirname(rel), target);
  if (climbs === ".." || climbs.startsWith("../")) refuse(display, `symlink to "${target}" escapes the root`);
}

function checkHardlink(display: string, target: string, safety: TarSafety): void {
  if (target === "") refuse(display, "hard link with an empty target");
  const rel = normaliseEntryPath(target);
  if (rel === "") refuse(display, "hard link to the root");
  checkNoSymlinkParent(`${display} (link target)`, rel, safety);
}

/**
 * Judge one entry: no absolute paths or "..", nothing through a symlink of
 * the archive, no symlink or hard link pointing out of the root, no device
 * files, no replacing an earlier symlink. Records the symlinks it makes.
 */
export function checkEntry(entry: TarEntry, safety: TarSafety): void {
  const display = entry.path;
  if (entry.type === "3" || entry.type === "4") refuse(display, "device file");
  if (!ALLOWED_TYPES[entry.type]) refuse(display, `unsupported entry type "${entry.type}"`);
  const rel = normaliseEntryPath(entry.path);
  if (rel === "") {
    if (entry.type !== "5") refuse(display, "the root of the archive must be a directory");
    return;
  }
  checkNoSymlinkParent(display, rel, safety);
  if (safety.symlinks.has(rel)) refuse(display, "replaces a symlink made earlier in the archive");
  if (entry.type === "2") {
    checkSymlinkTarget(display, rel, entry.linkpath);
    safety.symlinks.add(rel);
  } else if (entry.type === "1") {
    checkHardlink(display, entry.linkpath, safety);
  }
}
