import { isUtf8 } from "node:buffer";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from "node:fs";
import path from "node:path";
import { OciError } from "../errors.ts";
import { EventLoopTurns } from "../event-loop-turns.ts";
import { tarEntryName } from "./tar-reader.ts";
import { END_OF_ARCHIVE, entryHeader, padding, type TarWriterEntry } from "./tar-writer.ts";
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from "./whiteout.ts";

/**
 * The one writer of layer tars from directories in overlay form — an
 * overlayfs upper directory (a build step's changes) or a layer unpacked in
 * the store: the tar a push, a save or a build sends. Reproducible: names
 * sorted (bytewise), owners, modes, whole-second mtimes and the image's
 * xattrs from the files; overlay whiteouts (0/0 character devices) become
 * `.wh.<name>` entries and opaque directories (trusted.overlay.opaque=y) a
 * `.wh..wh..opq` entry, both root-owned 0644 at time 0; hard links within
 * the layer are links to the first name written. Sockets are left out.
 */

const OPAQUE_XATTR = "trusted.overlay.opaque";
const READ_CHUNK = 1024 * 1024;
const GETFATTR_MAX_BYTES = 256 * 1024 * 1024;

/** xattrs per absolute path, as getfattr(1) reports them. */
export type XattrMap = Map<string, Map<string, Buffer>>;

export interface LayerTarOptions {
  /** Paths (relative, "/"-separated) to leave out with everything below them. */
  exclude?: (rel: string) => boolean;
  /** Adds the bytes of the regular files written (an image's size counts those). */
  counter?: { fileBytes: number };
  /** xattrs already read with readXattrs (a second pass over the same tree needs no second getfattr). */
  xattrs?: XattrMap;
  /**
   * Character and block devices (not whiteouts): "include" them (a build step may make one), or
   * "refuse" (what the store unpacks never has any). Default "include".
   */
  devices?: "include" | "refuse";
}

/** Undoes getfattr's escaping of names: backslash-octal for unprintable bytes, "\\" for a backslash. */
function unescapeName(text: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(text, "utf8");
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString())) {
      bytes.push(Number.parseInt(raw.subarray(i + 1, i + 4).toString(), 8));
      i += 3;
    } else if (raw[i] === 0x5c && raw[i + 1] === 0x5c) {
      bytes.push(0x5c);
      i += 1;
    } else bytes.push(raw[i]!);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Parses `getfattr -h -R -P -d -m - -e hex --absolute-names` output. */
export function parseGetfattr(output: string): XattrMap {
  const result: XattrMap = new Map();
  let current: Map<string, Buffer> | null = null;
  for (const line of output.split("\n")) {
    if (line.startsWith("# file: ")) {
      current = new Map();
      result.set(unescapeName(line.slice("# file: ".length)), current);
      continue;
    }
    const eq = line.indexOf("=");
    if (current === null || eq <= 0) continue;
    const value = line.slice(eq + 1);
    const bytes = value.startsWith("0x")
      ? Buffer.from(value.slice(2), "hex")
      : Buffer.from(value.replace(/^"|"$/g, ""));
    current.set(line.slice(0, eq), bytes);
  }
  return result;
}

/**
 * Every xattr under `dir` (as root, trusted.* included), with one getfattr run. A symlink's are its
 * own (-h), as a tar entry carries them: not its target's, and a dangling one is no error.
 */
export function readXattrs(dir: string): Promise<XattrMap> {
  const args = ["-h", "-R", "-P", "-d", "-m", "-", "-e", "hex", "--absolute-names", dir];
  return new Promise((resolve, reject) => {
    execFile("getfattr", args, { maxBuffer: GETFATTR_MAX_BYTES, timeout: 600_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(parseGetfattr(stdout));
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT"
          ? '"getfattr" is not installed (Debian package "attr")'
          : `getfattr ${args.join(" ")} failed (exit ${String(code)}): ${String(stderr).trim().split("\n").slice(-3).join(" | ")}`;
      reject(new OciError(code === "ENOENT" ? "FailedPrecondition" : "Internal", why, { cause: err }));
    });
  });
}

interface Walk {
  root: string;
  xattrs: XattrMap;
  /** "dev:ino" of files with several links → the first path written. */
  links: Map<string, string>;
  exclude: (rel: string) => boolean;
  counter: { fileBytes: number };
  devices: "include" | "refuse";
  /** A consumer that only hashes (measureLayerTar) never waits for real I/O. */
  turns: EventLoopTurns;
}

/** xattrs an image carries (overlay's own trusted.* markers become whiteouts instead). */
function imageXattrs(all: Map<string, Buffer> | undefined): Map<string, Buffer> | undefined {
  if (!all) return undefined;
  const kept = new Map([...all].filter(([name]) => !name.startsWith("trusted.")));
  return kept.size > 0 ? kept : undefined;
}

const isOpaque = (w: Walk, abs: string) => w.xattrs.get(abs)?.get(OPAQUE_XATTR)?.toString() === "y";

/** A marker entry (whiteout, opaque): root-owned, 0644, time 0, so only its name matters. */
const marker = (p: string): TarWriterEntry => ({
  path: p,
  type: "file",
  size: 0,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 0,
});

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  return {
    devmajor: ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff),
    devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
  };
}

/**
 * A file's bytes and padding, read with synchronous calls, as the whole walk is: the thread pool
 * is busy with a build's gzip members, and each call queued behind them (an open, reads and a close
 * per file) left the commit of a 300 MB COPY waiting on the pool more than half of its time. A
 * read of READ_CHUNK from the page cache takes well under a millisecond.
 */
async function* fileData(w: Walk, abs: string, size: number): AsyncGenerator<Buffer> {
  const fd = openSync(abs, "r");
  try {
    let at = 0;
    while (at < size) {
      const want = Math.min(READ_CHUNK, size - at);
      const buf = Buffer.allocUnsafe(want);
      const bytesRead = readSync(fd, buf, 0, want, at);
      if (bytesRead === 0) break;
      at += bytesRead;
      await w.turns.add(bytesRead);
      yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
    }
    if (at !== size) throw new OciError("Internal", `${abs} changed size while it was archived`);
    const pad = padding(size);
    if (pad > 0) yield Buffer.alloc(pad);
  } finally {
    closeSync(fd);
  }
}

async function* entry(w: Walk, abs: string, rel: string, name: string, st: Stats): AsyncGenerator<Buffer> {
  const h = (extra: Pick<TarWriterEntry, "type"> & Partial<TarWriterEntry>): TarWriterEntry => ({
    path: rel,
    size: 0,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: Math.floor(st.mtimeMs / 1000),
    xattrs: imageXattrs(w.xattrs.get(abs)),
    ...extra,
  });
  if (st.isCharacterDevice() && st.rdev === 0) {
    const dir = path.posix.dirname(rel);
    yield entryHeader(marker(`${dir === "." ? "" : `${dir}/`}${WHITEOUT_PREFIX}${name}`));
  } else if (st.isDirectory()) {
    yield entryHeader(h({ type: "directory", path: `${rel}/` }));
    if (isOpaque(w, abs)) yield entryHeader(marker(`${rel}/${OPAQUE_WHITEOUT}`));
    yield* walk(w, abs, rel);
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? w.links.get(key) : undefined;
    if (first !== undefined) {
      yield entryHeader(h({ type: "hardlink", linkpath: first }));
      return;
    }
    if (st.nlink > 1) w.links.set(key, rel);
    w.counter.fileBytes += st.size;
    yield entryHeader(h({ type: "file", size: st.size }));
    yield* fileData(w, abs, st.size);
  } else if (st.isSymbolicLink()) {
    yield entryHeader(h({ type: "symlink", linkpath: readlinkSync(abs) }));
  } else if (st.isFIFO()) {
    yield entryHeader(h({ type: "fifo" }));
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    if (w.devices === "refuse") throw new OciError("InvalidArgument", `${abs}: a layer cannot hold a device`);
    yield entryHeader(h({ type: st.isCharacterDevice() ? "char" : "block", ...devNumbers(st.rdev) }));
  }
  // Sockets are not part of an image.
}

/**
 * A directory entry's name. One that is not UTF-8 is refused with its path's bytes (tarEntryName
 * throws), rather than written as other bytes; the path is only put together for the error.
 */
function entryName(rel: string, raw: Buffer): string {
  if (isUtf8(raw)) return raw.toString("utf8");
  return tarEntryName(Buffer.concat([Buffer.from(rel === "" ? "" : `${rel}/`), raw]));
}

async function* walk(w: Walk, abs: string, rel: string): AsyncGenerator<Buffer> {
  // Bytewise order (what GNU tar's --sort=name gives), not the locale's.
  for (const raw of readdirSync(abs, { encoding: "buffer" }).sort(Buffer.compare)) {
    const name = entryName(rel, raw);
    const childRel = rel === "" ? name : `${rel}/${name}`;
    if (w.exclude(childRel)) continue;
    const child = path.join(abs, name);
    yield* entry(w, child, childRel, name, lstatSync(child));
  }
}

/** The layer tar of `dir`, as a stream of chunks (see the top of this file). */
export async function* layerTar(dir: string, options: LayerTarOptions = {}): AsyncGenerator<Buffer> {
  const w: Walk = {
    root: dir,
    xattrs: options.xattrs ?? (await readXattrs(dir)),
    links: new Map(),
    exclude: options.exclude ?? (() => false),
    counter: options.counter ?? { fileBytes: 0 },
    devices: options.devices ?? "include",
    turns: new EventLoopTurns(),
  };
  if (isOpaque(w, dir)) yield entryHeader(marker(OPAQUE_WHITEOUT));
  yield* walk(w, dir, "");
  yield END_OF_ARCHIVE;
}

/** sha256 and size of a layer's tar, without keeping it. */
export async function measureLayerTar(
  dir: string,
  options: LayerTarOptions = {},
): Promise<{ digest: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of layerTar(dir, options)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}
