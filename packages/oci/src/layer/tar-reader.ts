import { isUtf8 } from "node:buffer";
import { OciError } from "../errors.ts";
import type { ByteSource } from "./byte-source.ts";

/**
 * A strict streaming reader of ustar/POSIX-pax/GNU tar. Written here rather
 * than taken from node-tar so that nothing is skipped silently: a bad
 * checksum, an unknown entry type or an oversized extended header is an
 * error, and PAX xattrs (SCHILY.xattr.*) and device numbers are kept.
 */

export type TarEntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "directory" | "fifo";

export interface TarHeader {
  path: string;
  type: TarEntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkpath: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
}

const BLOCK = 512;
/** Bound on PAX and GNU long-name records, which are held in memory. */
const MAX_META_BYTES = 1024 * 1024;

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "directory",
  "6": "fifo",
};

function field(block: Buffer, start: number, length: number): Buffer {
  const raw = block.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return nul >= 0 ? raw.subarray(0, nul) : raw;
}

/**
 * A name (path or link target) as a string. The file system is given names as strings, which Node
 * writes as UTF-8, so a name in other bytes (Latin-1, say) would be written as other bytes than the
 * layer holds: it is refused, naming its bytes, rather than unpacked under a mangled name.
 */
export function tarEntryName(raw: Buffer): string {
  const value = raw.toString("utf8");
  if (!isUtf8(raw)) {
    throw new OciError(
      "InvalidArgument",
      `file name ${JSON.stringify(value)} is not UTF-8 (bytes ${raw.toString("hex")}); Berth stores only UTF-8 names`,
    );
  }
  return value;
}

function text(block: Buffer, start: number, length: number): string {
  return tarEntryName(field(block, start, length));
}

function numeric(block: Buffer, start: number, length: number): number {
  const raw = block.subarray(start, start + length);
  if (raw[0]! & 0x80) {
    // GNU base-256: big-endian, positive only.
    if (raw[0] === 0xff) throw new OciError("InvalidArgument", "tar header has a negative number");
    let value = raw[0]! & 0x7f;
    for (let i = 1; i < raw.length; i++) value = value * 256 + raw[i]!;
    if (!Number.isSafeInteger(value)) throw new OciError("InvalidArgument", "tar header number is too large");
    return value;
  }
  const digits = field(block, start, length).toString("ascii").trim();
  if (digits === "") return 0;
  if (!/^[0-7]+$/.test(digits))
    throw new OciError("InvalidArgument", `tar header has a bad number "${digits}"`);
  return Number.parseInt(digits, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = numeric(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Parses PAX records `"<len> <key>=<value>\n"`, binary-safe. */
export function parsePax(body: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    const length = Number.parseInt(body.subarray(pos, space).toString("ascii"), 10);
    if (space < 0 || !Number.isInteger(length) || length <= 0 || pos + length > body.length) {
      throw new OciError("InvalidArgument", "tar has a malformed PAX header");
    }
    const record = body.subarray(space + 1, pos + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new OciError("InvalidArgument", "tar has a malformed PAX record");
    records.set(record.subarray(0, eq).toString("utf8"), record.subarray(eq + 1));
    pos += length;
  }
  return records;
}

interface Overrides {
  pax: Map<string, Buffer>;
  longName?: string;
  longLink?: string;
}

/** The name in the header's own fields (ustar splits a long one into prefix and name). */
function ustarPath(block: Buffer): string {
  const magic = block.subarray(257, 263).toString("latin1");
  const prefix = magic === "ustar\0" ? text(block, 345, 155) : "";
  return prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100);
}

function decodeHeader(block: Buffer, over: Overrides, global: Map<string, Buffer>): TarHeader {
  const flag = String.fromCharCode(block[156]!);
  const type = TYPES[flag];
  const pax = new Map([...global, ...over.pax]);
  const str = (key: string) => pax.get(key)?.toString("utf8");
  // A PAX or GNU long name replaces the header's own, which is then not read: it may be cut short
  // in the middle of a character.
  const paxName = (key: string) => {
    const raw = pax.get(key);
    return raw === undefined ? undefined : tarEntryName(raw);
  };
  const path = paxName("path") ?? over.longName ?? ustarPath(block);
  if (type === undefined) {
    throw new OciError("InvalidArgument", `tar entry "${path}" has unsupported type "${flag}"`);
  }
  const num = (key: string, fallback: number) => {
    const v = str(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new OciError("InvalidArgument", `tar entry "${path}" has bad ${key}`);
    return n;
  };
  // Old (V7) archivers mark a directory with a trailing slash on a regular-file entry.
  const kind: TarEntryType = type === "file" && flag !== "7" && path.endsWith("/") ? "directory" : type;
  const xattrs: Record<string, Buffer> = {};
  for (const [key, value] of pax) {
    if (key.startsWith("SCHILY.xattr.")) xattrs[key.slice("SCHILY.xattr.".length)] = value;
  }
  return {
    path,
    type: kind,
    size: Math.floor(num("size", numeric(block, 124, 12))),
    mode: numeric(block, 100, 8) & 0o7777,
    uid: Math.floor(num("uid", numeric(block, 108, 8))),
    gid: Math.floor(num("gid", numeric(block, 116, 8))),
    mtime: new Date(num("mtime", numeric(block, 136, 12)) * 1000),
    linkpath: paxName("linkpath") ?? over.longLink ?? text(block, 157, 100),
    devmajor: numeric(block, 329, 8),
    devminor: numeric(block, 337, 8),
    xattrs,
  };
}

async function readMeta(source: ByteSource, size: number, what: string): Promise<Buffer> {
  if (size > MAX_META_BYTES) {
    throw new OciError("InvalidArgument", `tar ${what} of ${size} bytes exceeds ${MAX_META_BYTES}`);
  }
  const body = (await source.read(size)) ?? Buffer.alloc(0);
  await source.skip(padding(size));
  return body;
}

/**
 * Reads headers one by one. After a yielded header of type "file" the caller
 * MUST consume exactly `header.size` bytes with `source.chunks()` or
 * `source.skip()`; the bodies of other types and all padding are skipped here.
 */
export async function* readTar(source: ByteSource): AsyncGenerator<TarHeader> {
  const global = new Map<string, Buffer>();
  let over: Overrides = { pax: new Map() };
  for (;;) {
    const block = await source.read(BLOCK);
    if (block === null || block.every((b) => b === 0)) return;
    if (!checksumOk(block))
      throw new OciError("InvalidArgument", "tar header checksum mismatch (corrupt layer?)");
    const flag = String.fromCharCode(block[156]!);
    const size = numeric(block, 124, 12);
    if (flag === "x") {
      over.pax = parsePax(await readMeta(source, size, "PAX header"));
    } else if (flag === "g") {
      for (const [k, v] of parsePax(await readMeta(source, size, "PAX global header"))) global.set(k, v);
    } else if (flag === "L" || flag === "K") {
      const value = tarEntryName(field(await readMeta(source, size, "GNU long name"), 0, size));
      if (flag === "L") over.longName = value;
      else over.longLink = value;
    } else {
      const header = decodeHeader(block, over, global);
      over = { pax: new Map() };
      const bodySize = header.type === "file" ? header.size : 0;
      if (header.type !== "file" && header.size > 0) await source.skip(header.size + padding(header.size));
      yield header;
      await source.skip(padding(bodySize));
    }
  }
}
