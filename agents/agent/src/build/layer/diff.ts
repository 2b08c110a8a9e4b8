import { createReadStream, type Stats } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from "@berth/oci";
import { runProgram } from "../../exec.ts";
import { endOfArchive, entryHeader, padding, type TarEntry } from "./tar-writer.ts";

/**
 * An overlayfs upper directory (or a layer kept in overlay form) as an OCI
 * layer tar: overlay whiteouts (0/0 character devices) become `.wh.<name>`
 * entries, opaque directories (trusted.overlay.opaque=y) get a
 * `.wh..wh..opq` entry, hard links within the layer stay hard links.
 * Entries are sorted by name, so the same tree gives the same tar.
 */

export interface DiffOptions {
  /** Paths (relative, "/"-separated) to leave out with everything below them. */
  exclude?: (rel: string) => boolean;
  /** Adds the bytes of the regular files written (an image's size counts those). */
  counter?: { fileBytes: number };
}

/** Directories of `dir` marked opaque, as paths relative to `dir`. */
export async function opaqueDirectories(dir: string): Promise<Set<string>> {
  const output = await runProgram(
    "getfattr",
    ["--absolute-names", "-h", "-P", "-R", "-m", "^trusted\\.overlay\\.opaque$", "-d", dir],
    { timeoutMs: 120_000, maxBufferBytes: 64 * 1024 * 1024 },
  );
  const opaque = new Set<string>();
  let current: string | null = null;
  for (const line of output.split("\n")) {
    if (line.startsWith("# file: ")) {
      current = line
        .slice(8)
        .replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
      // getfattr writes the raw bytes' octal escapes; names are UTF-8.
      current = Buffer.from(current, "latin1").toString("utf8");
    } else if (current && /^trusted\.overlay\.opaque="y"$/.test(line.trim())) {
      opaque.add(path.relative(dir, current));
    }
  }
  return opaque;
}

function isWhiteoutDevice(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  return {
    devmajor: ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff),
    devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
  };
}

function baseEntry(name: string, stats: Stats): Omit<TarEntry, "type"> {
  return {
    name,
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    mtime: Math.floor(stats.mtimeMs / 1000),
  };
}

interface WalkState {
  root: string;
  opaque: Set<string>;
  links: Map<string, string>;
  exclude: (rel: string) => boolean;
  counter: { fileBytes: number };
}

async function* walk(state: WalkState, relDir: string): AsyncGenerator<Buffer> {
  const names = (await readdir(path.join(state.root, relDir))).sort();
  for (const name of names) {
    const rel = relDir === "" ? name : `${relDir}/${name}`;
    if (state.exclude(rel)) continue;
    const abs = path.join(state.root, rel);
    const stats = await lstat(abs);
    if (isWhiteoutDevice(stats)) {
      const wh = relDir === "" ? `${WHITEOUT_PREFIX}${name}` : `${relDir}/${WHITEOUT_PREFIX}${name}`;
      yield entryHeader({ name: wh, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 });
    } else if (stats.isDirectory()) {
      yield entryHeader({ ...baseEntry(rel, stats), type: "dir" });
      if (state.opaque.has(rel)) {
        yield entryHeader({
          name: `${rel}/${OPAQUE_WHITEOUT}`,
          type: "file",
          mode: 0o644,
          uid: 0,
          gid: 0,
          mtime: 0,
          size: 0,
        });
      }
      yield* walk(state, rel);
    } else if (stats.isSymbolicLink()) {
      yield entryHeader({ ...baseEntry(rel, stats), type: "symlink", linkname: await readlink(abs) });
    } else if (stats.isFile()) {
      const key = `${stats.dev}:${stats.ino}`;
      const first = stats.nlink > 1 ? state.links.get(key) : undefined;
      if (first !== undefined) {
        yield entryHeader({ ...baseEntry(rel, stats), type: "hardlink", linkname: first });
        continue;
      }
      if (stats.nlink > 1) state.links.set(key, rel);
      yield entryHeader({ ...baseEntry(rel, stats), type: "file", size: stats.size });
      state.counter.fileBytes += stats.size;
      let written = 0;
      for await (const chunk of createReadStream(abs, { end: Math.max(0, stats.size - 1) })) {
        if (stats.size === 0) break;
        written += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (written !== stats.size) throw new Error(`${abs} changed size while it was archived`);
      yield padding(stats.size);
    } else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
      const type = stats.isCharacterDevice() ? "char" : "block";
      yield entryHeader({ ...baseEntry(rel, stats), type, ...devNumbers(stats.rdev) });
    } else if (stats.isFIFO()) {
      yield entryHeader({ ...baseEntry(rel, stats), type: "fifo" });
    }
    // Sockets are not part of an image.
  }
}

/** The layer tar of `dir`, as a stream of chunks. */
export async function* diffTar(dir: string, options: DiffOptions = {}): AsyncGenerator<Buffer> {
  const state: WalkState = {
    root: dir,
    opaque: await opaqueDirectories(dir),
    links: new Map(),
    exclude: options.exclude ?? (() => false),
    counter: options.counter ?? { fileBytes: 0 },
  };
  yield* walk(state, "");
  yield endOfArchive();
}

/**
 * What a build container leaves in its upper directory that is not the
 * step's work: mount points runc creates (/proc, /sys, /dev and the
 * /etc files the runtime bind-mounts). Writes under them went to the mounts.
 */
export function isRuntimeArtifact(rel: string): boolean {
  const top = rel.split("/")[0];
  if (top === "proc" || top === "sys" || top === "dev") return true;
  return rel === "etc/hosts" || rel === "etc/hostname" || rel === "etc/resolv.conf";
}
