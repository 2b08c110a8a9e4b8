/**
 * A small tar (POSIX pax) writer for layers: ustar headers, with a pax
 * extended header whenever a name, link target, size or id does not fit.
 */

export type TarEntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export interface TarEntry {
  /** Path inside the archive, "/"-separated, no leading "/"; directories without a trailing "/". */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG: Record<TarEntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

const BLOCK = 512;

function octal(value: number, width: number): string | null {
  const text = Math.floor(value).toString(8);
  return text.length > width - 1 ? null : `${text.padStart(width - 1, "0")}\0`;
}

function paxRecord(key: string, value: string): string {
  // "<len> key=value\n", where len counts itself.
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len += 1;
  return `${len}${body}`;
}

function header(name: string, type: string, e: Omit<TarEntry, "name" | "type">, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  h.write(octal(e.mode & 0o7777, 8) ?? "0000000\0", 100, "latin1");
  h.write(octal(e.uid, 8) ?? "0000000\0", 108, "latin1");
  h.write(octal(e.gid, 8) ?? "0000000\0", 116, "latin1");
  h.write(octal(size, 12) ?? "00000000000\0", 124, "latin1");
  h.write(octal(Math.max(0, e.mtime), 12) ?? "00000000000\0", 136, "latin1");
  h.write(type, 156, "latin1");
  h.write(e.linkname ?? "", 157, 100, "utf8");
  h.write("ustar\0", 257, "latin1");
  h.write("00", 263, "latin1");
  h.write(octal(e.devmajor ?? 0, 8)!, 329, "latin1");
  h.write(octal(e.devminor ?? 0, 8)!, 337, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return h;
}

export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The header block(s) of an entry; for a file, its content and `padding(size)` follow. */
export function entryHeader(entry: TarEntry): Buffer {
  const name = entry.type === "dir" ? `${entry.name}/` : entry.name;
  const size = entry.type === "file" ? (entry.size ?? 0) : 0;
  const records: string[] = [];
  if (Buffer.byteLength(name) > 100) records.push(paxRecord("path", name));
  if (entry.linkname && Buffer.byteLength(entry.linkname) > 100)
    records.push(paxRecord("linkpath", entry.linkname));
  if (octal(size, 12) === null) records.push(paxRecord("size", String(size)));
  if (octal(entry.uid, 8) === null) records.push(paxRecord("uid", String(entry.uid)));
  if (octal(entry.gid, 8) === null) records.push(paxRecord("gid", String(entry.gid)));
  const main = header(name, TYPEFLAG[entry.type], entry, size);
  if (records.length === 0) return main;
  const pax = Buffer.from(records.join(""), "utf8");
  const paxName = `PaxHeaders/${name}`.slice(0, 99);
  const paxHeader = header(paxName, "x", { ...entry, linkname: "" }, pax.length);
  return Buffer.concat([paxHeader, pax, padding(pax.length), main]);
}

/** Two zero blocks end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(BLOCK * 2);
}
