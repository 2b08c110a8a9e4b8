/**
 * Byte-level reading of log files: forwards from an offset, backwards from
 * the end (so a tail never reads the whole file), and the list of rotated
 * files. A record ends at "\n". A NUL byte also ends a segment: a writer
 * without O_APPEND keeps writing at its old offset after a copytruncate and
 * leaves a sparse hole of NULs at the start of the file, which readers skip.
 */
import type { FileHandle } from "node:fs/promises";
import { open, stat } from "node:fs/promises";

export const CHUNK_BYTES = 64 * 1024;
/** A segment longer than this is not a conmon record (those are ≤ 8 KiB of text); it is dropped. */
export const MAX_SEGMENT_BYTES = 4 * 1024 * 1024;
const MAX_ROTATED_FILES = 1000;

const isSeparator = (byte: number | undefined) => byte === 0x0a || byte === 0x00;

/** `path.N`, …, `path.1` that exist (oldest first), then `path` itself. */
export async function listLogFiles(path: string): Promise<string[]> {
  const rotated: string[] = [];
  for (let n = 1; n <= MAX_ROTATED_FILES; n++) {
    if (!(await exists(`${path}.${n}`))) break;
    rotated.push(`${path}.${n}`);
  }
  return [...rotated.reverse(), path];
}

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export interface FileSnapshot {
  ino: number;
  size: number;
  /** Offset just past the last separator: everything before it is whole records. */
  end: number;
  /** Up to FINGERPRINT_BYTES bytes just before `end`. */
  tail: Buffer;
}

/** The file's identity and how far its complete records reach; null when it does not exist. */
export async function snapshotFile(file: string): Promise<FileSnapshot | null> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch {
    return null;
  }
  try {
    const { ino, size } = await fh.stat();
    const end = await lastSeparatorEnd(fh, size);
    const tail = Buffer.alloc(Math.min(end, FINGERPRINT_BYTES));
    const { bytesRead } = await fh.read(tail, 0, tail.length, end - tail.length);
    return { ino, size, end, tail: tail.subarray(0, bytesRead) };
  } finally {
    await fh.close();
  }
}

async function lastSeparatorEnd(fh: FileHandle, size: number): Promise<number> {
  let pos = size;
  const buf = Buffer.alloc(CHUNK_BYTES);
  while (pos > 0) {
    const len = Math.min(CHUNK_BYTES, pos);
    pos -= len;
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    for (let i = bytesRead - 1; i >= 0; i--) if (isSeparator(buf[i])) return pos + i + 1;
  }
  return 0;
}

/** Segments of `file` before offset `end`, last first, reading CHUNK_BYTES at a time from the end. */
export async function* linesBackward(file: string, end: number): AsyncGenerator<string> {
  const fh = await open(file, "r");
  try {
    let pos = end;
    let carry: Buffer = Buffer.alloc(0);
    while (pos > 0) {
      const len = Math.min(CHUNK_BYTES, pos);
      pos -= len;
      const chunk = Buffer.alloc(len);
      const { bytesRead } = await fh.read(chunk, 0, len, pos);
      const data = carry.length > 0 ? Buffer.concat([chunk.subarray(0, bytesRead), carry]) : chunk;
      let segmentEnd = data.length;
      for (let i = data.length - 1; i >= 0; i--) {
        if (!isSeparator(data[i])) continue;
        if (i + 1 < segmentEnd) yield data.toString("utf8", i + 1, segmentEnd);
        segmentEnd = i;
      }
      carry = segmentEnd > MAX_SEGMENT_BYTES ? Buffer.alloc(0) : Buffer.from(data.subarray(0, segmentEnd));
    }
    if (carry.length > 0) yield carry.toString("utf8");
  } finally {
    await fh.close();
  }
}

/** How many bytes before a reader's offset identify what it has read (see follow.ts). */
export const FINGERPRINT_BYTES = 64;

/** Where a forward read stands. */
export interface Cursor {
  /** The first byte not yet consumed. */
  offset: number;
  /** Up to FINGERPRINT_BYTES bytes just before `offset`, when known. */
  tail?: Buffer;
}

/** The last FINGERPRINT_BYTES bytes before `end` of `data`, continuing `previous` (the bytes before data). */
function tailBefore(data: Buffer, end: number, previous: Buffer | undefined): Buffer {
  if (end >= FINGERPRINT_BYTES || !previous) return data.subarray(Math.max(0, end - FINGERPRINT_BYTES), end);
  return Buffer.concat([previous, data.subarray(0, end)]).subarray(-FINGERPRINT_BYTES);
}

/**
 * Terminated segments from `cursor.offset` up to `end` (or the current end of
 * file when null), advancing the cursor past each one and past separator
 * runs. An unterminated tail is left for a later read.
 */
export async function* linesForward(
  fh: FileHandle,
  cursor: Cursor,
  end: number | null,
): AsyncGenerator<string> {
  let pos = cursor.offset;
  let carry: Buffer = Buffer.alloc(0);
  const buf = Buffer.alloc(CHUNK_BYTES);
  for (;;) {
    const want = end === null ? CHUNK_BYTES : Math.min(CHUNK_BYTES, end - pos);
    if (want <= 0) return;
    // The cursor's tail may be a view of `buf`, which the read below overwrites.
    const previous = cursor.tail && Buffer.from(cursor.tail);
    cursor.tail = previous;
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) return;
    const base = pos - carry.length;
    const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf;
    const dataLen = carry.length + bytesRead;
    let segmentStart = 0;
    for (let i = 0; i < dataLen; i++) {
      if (!isSeparator(data[i])) continue;
      const line = i > segmentStart ? data.toString("utf8", segmentStart, i) : null;
      segmentStart = i + 1;
      cursor.offset = base + segmentStart;
      cursor.tail = tailBefore(data, segmentStart, previous);
      if (line !== null) yield line;
    }
    pos += bytesRead;
    const rest = dataLen - segmentStart;
    if (rest > MAX_SEGMENT_BYTES) {
      // An over-long unterminated segment is not a record: skip it.
      cursor.offset = pos;
      cursor.tail = undefined;
      carry = Buffer.alloc(0);
    } else {
      carry = Buffer.from(data.subarray(segmentStart, dataLen));
    }
  }
}

/** Whether `fh` holds `expected` just before `offset`. */
export async function hasBytesBefore(fh: FileHandle, offset: number, expected: Buffer): Promise<boolean> {
  if (offset < expected.length) return false;
  const found = Buffer.alloc(expected.length);
  const { bytesRead } = await fh.read(found, 0, expected.length, offset - expected.length);
  return bytesRead === expected.length && found.equals(expected);
}
