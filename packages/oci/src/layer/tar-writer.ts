/**
 * Tar headers as `docker save` and `tar --format=posix` write them: ustar,
 * preceded by a PAX extended header when a field does not fit (long or
 * non-ASCII names and link targets, big sizes, ids or times, xattrs).
 * Deterministic: the same entry always gives the same bytes.
 */

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

export type TarWriterType = "file" | "hardlink" | "symlink" | "directory" | "fifo" | "char" | "block";

const TYPE_FLAG: Record<TarWriterType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  directory: "5",
  fifo: "6",
};

export interface TarWriterEntry {
  /** "/"-separated, no leading "/"; a directory's ends with "/". */
  path: string;
  type: TarWriterType;
  /** Bytes of data that follow (files only; ignored for other types). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as PAX SCHILY.xattr.<name> in name order. */
  xattrs?: ReadonlyMap<string, Buffer>;
}

const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/** Bytes of zero padding after `size` bytes of data. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

const ZEROS = Buffer.alloc(BLOCK);

export function paddingBlock(size: number): Buffer {
  return ZEROS.subarray(0, padding(size));
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);
const fits = (value: string, max: number) => isAscii(value) && value.length <= max;

/** A PAX record: "<length> <key>=<value>\n", where length counts itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from("\n")]);
  let length = body.length + 1;
  while (String(length).length + body.length > length) length += 1;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

function ustar(name: string, flag: string, size: number, h: TarWriterEntry, linkpath: string): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, "utf8");
  header.write(octal(h.mode & 0o7777, 8), 100, "latin1");
  header.write(octal(Math.min(h.uid, MAX_OCTAL_8), 8), 108, "latin1");
  header.write(octal(Math.min(h.gid, MAX_OCTAL_8), 8), 116, "latin1");
  header.write(octal(Math.min(size, MAX_OCTAL_12), 12), 124, "latin1");
  header.write(octal(Math.min(Math.max(h.mtime, 0), MAX_OCTAL_12), 12), 136, "latin1");
  header.write(flag, 156, "latin1");
  header.write(linkpath, 157, 100, "utf8");
  header.write("ustar\0", 257, "latin1");
  header.write("00", 263, "latin1");
  if (h.type === "char" || h.type === "block") {
    header.write(octal(Math.min(h.devmajor ?? 0, MAX_OCTAL_8), 8), 329, "latin1");
    header.write(octal(Math.min(h.devminor ?? 0, MAX_OCTAL_8), 8), 337, "latin1");
  }
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += header[i]!;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return header;
}

/** The PAX records an entry needs, in a fixed order (none when ustar holds it all). */
function paxRecords(h: TarWriterEntry, size: number): Buffer[] {
  const records: Buffer[] = [];
  const linkpath = h.linkpath ?? "";
  if (!fits(h.path, 100)) records.push(paxRecord("path", Buffer.from(h.path)));
  if (!fits(linkpath, 100)) records.push(paxRecord("linkpath", Buffer.from(linkpath)));
  if (size > MAX_OCTAL_12) records.push(paxRecord("size", Buffer.from(String(size))));
  if (h.uid > MAX_OCTAL_8) records.push(paxRecord("uid", Buffer.from(String(h.uid))));
  if (h.gid > MAX_OCTAL_8) records.push(paxRecord("gid", Buffer.from(String(h.gid))));
  if (h.mtime < 0 || h.mtime > MAX_OCTAL_12) records.push(paxRecord("mtime", Buffer.from(String(h.mtime))));
  for (const name of [...(h.xattrs?.keys() ?? [])].sort()) {
    records.push(paxRecord(`SCHILY.xattr.${name}`, h.xattrs!.get(name)!));
  }
  return records;
}

/** Header block(s) of one entry: a PAX header (with its data) when needed, then the ustar block. A file's data and `paddingBlock(size)` follow. */
export function entryHeader(h: TarWriterEntry): Buffer {
  const size = h.type === "file" ? h.size : 0;
  const linkpath = h.linkpath ?? "";
  const main = ustar(
    fits(h.path, 100) ? h.path : "",
    TYPE_FLAG[h.type],
    size,
    h,
    fits(linkpath, 100) ? linkpath : "",
  );
  const records = paxRecords(h, size);
  if (records.length === 0) return main;
  const data = Buffer.concat(records);
  const pax: TarWriterEntry = { ...h, type: "file", mode: 0o644, uid: 0, gid: 0 };
  const paxHeader = ustar("PaxHeader", "x", data.length, pax, "");
  return Buffer.concat([paxHeader, data, paddingBlock(data.length), main]);
}
