import { tarEntryName } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { toBerthError } from "./pull/pull.ts";
import { checkEntry, type TarEntry, type TarSafety } from "./tar-safety.ts";

const BLOCK = 512;
/** PAX headers and GNU long names are buffered; they are small in any honest archive. */
const MAX_META_BYTES = 1024 * 1024;

function cField(buf: Buffer, start: number, length: number): Buffer {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end);
}

/**
 * A name (path, link target) must be UTF-8: the store's later readers (save, push, builds) name
 * files with strings, and another encoding would be found under other bytes.
 */
function nameOf(raw: Buffer): string {
  try {
    return tarEntryName(raw);
  } catch (err) {
    throw toBerthError(err);
  }
}

/** A numeric header field: octal text, or GNU's base-256 when the top bit is set. */
function numeric(buf: Buffer, start: number, length: number): number {
  const field = buf.subarray(start, start + length);
  if ((field[0]! & 0x80) !== 0) {
    if ((field[0]! & 0x40) !== 0) throw new BerthError("InvalidArgument", "tar header has a negative number");
    let value = field[0]! & 0x3f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const text = field.toString("latin1").replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text))
    throw new BerthError("InvalidArgument", `tar header field "${text}" is not octal`);
  return Number.parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  const stored = header.subarray(148, 156).toString("latin1").replace(/\0.*$/s, "").trim();
  return /^[0-7]+$/.test(stored) && Number.parseInt(stored, 8) === sum;
}

/** PAX records: "<length> <key>=<value>\n". */
function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString("latin1"));
    if (space === -1 || !Number.isSafeInteger(length) || length <= 0 || at + length > data.length) {
      throw new BerthError("InvalidArgument", "malformed PAX header in tar");
    }
    const record = data.subarray(space + 1, at + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) records.set(record.subarray(0, eq).toString("utf8"), record.subarray(eq + 1));
    at += length;
  }
  return records;
}

interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
}

/**
 * A streaming reader of tar headers (ustar, GNU long names, PAX) that checks
 * every entry as it goes and never holds file contents in memory.
 */
export class TarScanner {
  private buffered: Buffer = Buffer.alloc(0);
  /** Bytes of entry data (plus padding) still to skip or collect. */
  private remaining = 0;
  private collecting: { type: string; chunks: Buffer[]; size: number } | null = null;
  private pending: Pending = {};
  private global: Pending = {};
  private ended = false;
  readonly safety: TarSafety = { symlinks: new Set() };
  /** Sum of regular files' sizes. */
  size = 0;
  entries = 0;

  push(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (!this.ended) {
      if (this.remaining > 0) {
        if (this.buffered.length === 0) return;
        this.consumeData();
        continue;
      }
      if (this.buffered.length < BLOCK) return;
      const header = this.buffered.subarray(0, BLOCK);
      this.buffered = this.buffered.subarray(BLOCK);
      this.onHeader(header);
    }
  }

  /** Call once the stream is over: a truncated archive is refused. */
  finish(): void {
    if (this.entries === 0 || (!this.ended && (this.remaining > 0 || this.buffered.length > 0))) {
      throw new BerthError("InvalidArgument", "the tar archive is truncated or empty");
    }
  }

  private consumeData(): void {
    const take = Math.min(this.remaining, this.buffered.length);
    if (this.collecting) this.collecting.chunks.push(Buffer.from(this.buffered.subarray(0, take)));
    this.buffered = this.buffered.subarray(take);
    this.remaining -= take;
    if (this.remaining === 0 && this.collecting) this.onMetaData();
  }

  private onMetaData(): void {
    const { type, chunks, size } = this.collecting!;
    this.collecting = null;
    const data = Buffer.concat(chunks).subarray(0, size);
    if (type === "L") this.pending.path = nameOf(cField(data, 0, data.length));
    else if (type === "K") this.pending.linkpath = nameOf(cField(data, 0, data.length));
    else {
      const records = parsePax(data);
      const target = type === "g" ? this.global : this.pending;
      const path = records.get("path");
      const linkpath = records.get("linkpath");
      const size = records.get("size");
      if (path) target.path = nameOf(path);
      if (linkpath) target.linkpath = nameOf(linkpath);
      if (size) target.size = Number(size.toString("latin1"));
    }
  }

  private onHeader(header: Buffer): void {
    if (header.every((byte) => byte === 0)) {
      this.ended = true;
      return;
    }
    if (!checksumOk(header))
      throw new BerthError("InvalidArgument", "not a tar archive (bad header checksum)");
    const type = String.fromCharCode(header[156]!) === "\0" ? "0" : String.fromCharCode(header[156]!);
    const headerSize = numeric(header, 124, 12);
    if ("LKxg".includes(type)) {
      if (headerSize > MAX_META_BYTES)
        throw new BerthError("InvalidArgument", "tar metadata header is too large");
      this.collecting = { type, chunks: [], size: headerSize };
      this.remaining = Math.ceil(headerSize / BLOCK) * BLOCK;
      if (this.remaining === 0) this.onMetaData();
      return;
    }
    const entry = this.entryFrom(header, type);
    this.pending = {};
    checkEntry(entry, this.safety);
    this.entries += 1;
    if (entry.type === "0" || entry.type === "7") this.size += entry.size;
    // GNU tar, which unpacks the layer, reads no data after a hard link and honours the size of the rest.
    const dataSize = type === "1" ? 0 : entry.size;
    this.remaining = Math.ceil(dataSize / BLOCK) * BLOCK;
  }

  private entryFrom(header: Buffer, type: string): TarEntry {
    // The header's own name is read only when no long name replaces it: GNU tar cuts it at 100
    // bytes, maybe in the middle of a character.
    const ownPath = () => {
      const magic = header.subarray(257, 263).toString("latin1");
      const prefix = magic === "ustar\0" ? nameOf(cField(header, 345, 155)) : "";
      const name = nameOf(cField(header, 0, 100));
      return prefix ? `${prefix}/${name}` : name;
    };
    return {
      path: this.pending.path ?? this.global.path ?? ownPath(),
      linkpath: this.pending.linkpath ?? this.global.linkpath ?? nameOf(cField(header, 157, 100)),
      type,
      size: this.pending.size ?? this.global.size ?? numeric(header, 124, 12),
    };
  }
}
