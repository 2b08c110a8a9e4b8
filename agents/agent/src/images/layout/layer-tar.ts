import { createHash } from "node:crypto";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { runProgram } from "../../exec.ts";
import { END_OF_ARCHIVE, entryHeader, padding, type TarEntryHeader } from "./tar-header.ts";

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_WHITEOUT = ".wh..wh..opq";
const OPAQUE_XATTR = "trusted.overlay.opaque";
const READ_CHUNK = 1024 * 1024;
const LONG_MS = 10 * 60 * 1000;

/** xattrs per absolute path, as getfattr(1) reports them. */
export type XattrMap = Map<string, Map<string, Buffer>>;

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

/** Parses `getfattr -R -P -d -m - -e hex --absolute-names` output. */
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

/** Every xattr under `dir` (as root, trusted.* included), with one getfattr run. */
export async function readXattrs(dir: string): Promise<XattrMap> {
  const output = await runProgram(
    "getfattr",
    ["-R", "-P", "-d", "-m", "-", "-e", "hex", "--absolute-names", dir],
    { timeoutMs: LONG_MS, maxBufferBytes: 64 * 1024 * 1024 },
  );
  return parseGetfattr(output);
}

interface Walk {
  xattrs: XattrMap;
  /** "dev:ino" of files with several links → the first path written. */
  links: Map<string, string>;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** xattrs an image carries (overlay's own trusted.* markers are turned into whiteouts instead). */
function imageXattrs(all: Map<string, Buffer> | undefined): Map<string, Buffer> | undefined {
  if (!all) return undefined;
  const kept = new Map([...all].filter(([name]) => !name.startsWith("trusted.")));
  return kept.size > 0 ? kept : undefined;
}

async function* fileData(abs: string, size: number): AsyncGenerator<Buffer> {
  const handle = await open(abs, "r");
  try {
    let at = 0;
    while (at < size) {
      const want = Math.min(READ_CHUNK, size - at);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buf, 0, want, at);
      if (bytesRead === 0) break;
      at += bytesRead;
      yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
    }
    if (at !== size) throw new BerthError("Internal", `${abs} changed size while it was read`);
    const pad = padding(size);
    if (pad > 0) yield Buffer.alloc(pad);
  } finally {
    await handle.close();
  }
}

async function* walk(w: Walk, abs: string, rel: string): AsyncGenerator<Buffer> {
  const names = (await readdir(abs)).sort();
  for (const name of names) {
    const child = path.join(abs, name);
    const childRel = rel === "" ? name : `${rel}/${name}`;
    const st = await lstat(child, { bigint: false });
    const base = {
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: seconds(st.mtimeMs),
      xattrs: imageXattrs(w.xattrs.get(child)),
    };
    const h = (extra: Partial<TarEntryHeader> & Pick<TarEntryHeader, "type">): TarEntryHeader => ({
      path: childRel,
      size: 0,
      ...base,
      ...extra,
    });
    if (st.isDirectory()) {
      yield entryHeader(h({ type: "directory", path: `${childRel}/` }));
      if (w.xattrs.get(child)?.get(OPAQUE_XATTR)?.toString() === "y") {
        yield entryHeader({
          ...h({ type: "file" }),
          path: `${childRel}/${OPAQUE_WHITEOUT}`,
          xattrs: undefined,
        });
      }
      yield* walk(w, child, childRel);
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? w.links.get(key) : undefined;
      if (first !== undefined) {
        yield entryHeader(h({ type: "hardlink", linkpath: first }));
        continue;
      }
      if (st.nlink > 1) w.links.set(key, childRel);
      yield entryHeader(h({ type: "file", size: st.size }));
      yield* fileData(child, st.size);
    } else if (st.isSymbolicLink()) {
      yield entryHeader(h({ type: "symlink", linkpath: await readlink(child) }));
    } else if (st.isCharacterDevice() && st.rdev === 0) {
      const whiteout = `${rel === "" ? "" : `${rel}/`}${WHITEOUT_PREFIX}${name}`;
      yield entryHeader({ ...h({ type: "file" }), path: whiteout, xattrs: undefined });
    } else if (st.isFIFO()) {
      yield entryHeader(h({ type: "fifo" }));
    } else {
      throw new BerthError("Internal", `${child}: a layer cannot hold this kind of file`);
    }
  }
}

/**
 * The layer unpacked in `dir` as an OCI layer tar, reproducibly: names
 * sorted, owners, modes, whole-second mtimes and xattrs from the files,
 * overlayfs whiteouts (0/0 character devices) and opaque directories turned
 * back into `.wh.` entries, hard links as links to the first name.
 */
export async function* layerTar(dir: string, xattrs?: XattrMap): AsyncGenerator<Buffer> {
  const w: Walk = { xattrs: xattrs ?? (await readXattrs(dir)), links: new Map() };
  if (w.xattrs.get(dir)?.get(OPAQUE_XATTR)?.toString() === "y") {
    yield entryHeader({ path: OPAQUE_WHITEOUT, type: "file", size: 0, mode: 0, uid: 0, gid: 0, mtime: 0 });
  }
  yield* walk(w, dir, "");
  yield END_OF_ARCHIVE;
}

/** sha256 and size of a layer's tar, without keeping it. */
export async function measureLayer(dir: string, xattrs: XattrMap): Promise<{ digest: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of layerTar(dir, xattrs)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}
