/**
 * Following a log file as it grows, across:
 * - copytruncate rotation: the bytes before our offset are no longer the
 *   ones we read (the file shrank, or shrank and grew again between two
 *   looks). Continue from its start, after reading from `path.1` what was
 *   written between our last read and the truncation — when `path.1` holds
 *   the bytes we read at the same offset, which proves it is the copy;
 * - replacement (a new inode at the path): drain the old file, then read the
 *   new one from its start;
 * - removal: keep the old file until a new one appears.
 * Woken by fs.watch on the directory, with polling as a backstop and fallback.
 */
import { type FSWatcher, watch } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import path from "node:path";
import { type Cursor, hasBytesBefore, linesForward } from "./files.ts";

export interface FollowStart {
  /** Inode of the file the history was read from (null when there was none). */
  ino: number | null;
  /** Offset in that file where the history stopped. */
  offset: number;
  /** The bytes just before `offset`. */
  tail?: Buffer;
}

export interface FollowOptions {
  signal?: AbortSignal;
  pollIntervalMs: number;
  /** Stop once this is true and everything written so far has been read. */
  isDone?: () => boolean | Promise<boolean>;
  /** false: poll only, no fs.watch (default true). */
  watch?: boolean;
}

interface Followed {
  fh: FileHandle;
  ino: number;
  cursor: Cursor;
}

export async function statOrNull(file: string): Promise<{ ino: number; size: number } | null> {
  return stat(file).then(
    (s) => ({ ino: s.ino, size: s.size }),
    () => null,
  );
}

/** Raw lines appended to `file` from `start`, until the signal aborts or `isDone` says so. */
export async function* followLog(
  file: string,
  start: FollowStart,
  options: FollowOptions,
): AsyncGenerator<string> {
  const waker = createWaker(file, options);
  let current: Followed | null = null;
  let history: FollowStart | null = start;
  try {
    for (;;) {
      if (options.signal?.aborted) return;
      if (!current) {
        current = await openFollowed(file, history);
        if (current) history = null;
      }
      let read = 0;
      if (current) {
        for await (const line of linesForward(current.fh, current.cursor, null)) {
          read++;
          yield line;
        }
        const next = await checkRotation(file, current);
        for (const line of next.recovered) {
          read++;
          yield line;
        }
        if (next.replaced) {
          yield* linesForward(current.fh, current.cursor, null);
          await current.fh.close();
          current = await openFollowed(file, null);
          continue;
        }
      }
      if (read === 0 && (await options.isDone?.())) {
        if (current) yield* linesForward(current.fh, current.cursor, null);
        return;
      }
      await waker.wait();
    }
  } finally {
    waker.close();
    await current?.fh.close();
  }
}

/** Open the followed file; continue at the history's offset when it is the same inode. */
async function openFollowed(file: string, start: FollowStart | null): Promise<Followed | null> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch {
    return null;
  }
  const { ino } = await fh.stat();
  const cursor: Cursor =
    start && start.ino === ino ? { offset: start.offset, tail: start.tail } : { offset: 0 };
  return { fh, ino, cursor };
}

interface RotationCheck {
  replaced: boolean;
  recovered: string[];
}

async function checkRotation(file: string, current: Followed): Promise<RotationCheck> {
  const live = await statOrNull(file);
  if (!live) return { replaced: false, recovered: [] };
  if (live.ino !== current.ino) return { replaced: true, recovered: [] };
  const { offset, tail } = current.cursor;
  if (offset === 0) return { replaced: false, recovered: [] };
  const unchanged = live.size >= offset && (!tail || (await hasBytesBefore(current.fh, offset, tail)));
  if (unchanged) return { replaced: false, recovered: [] };
  const recovered = tail ? await readCopyFrom(`${file}.1`, offset, tail) : [];
  current.cursor.offset = 0;
  current.cursor.tail = undefined;
  return { replaced: false, recovered };
}

/** The lines of the rotated copy after `offset`, when it holds `tail` just before it (it is our copy). */
async function readCopyFrom(file: string, offset: number, tail: Buffer): Promise<string[]> {
  const fh = await open(file, "r").catch(() => null);
  if (!fh) return [];
  try {
    if (!(await hasBytesBefore(fh, offset, tail))) return [];
    const lines: string[] = [];
    for await (const line of linesForward(fh, { offset }, null)) lines.push(line);
    return lines;
  } finally {
    await fh.close();
  }
}

interface Waker {
  wait(): Promise<void>;
  close(): void;
}

function createWaker(file: string, options: FollowOptions): Waker {
  const { pollIntervalMs, signal } = options;
  const base = path.basename(file);
  let pending = false;
  let wake: (() => void) | null = null;
  const fire = () => {
    if (wake) wake();
    else pending = true;
  };
  let watcher: FSWatcher | null = null;
  try {
    if (options.watch === false) throw new Error("polling only");
    watcher = watch(path.dirname(file), { persistent: false }, (_event, name) => {
      if (!name || name === base || name.startsWith(`${base}.`)) fire();
    });
    watcher.on("error", () => {
      watcher?.close();
      watcher = null;
    });
  } catch {
    watcher = null; // no inotify here (or no directory yet): polling alone
  }
  signal?.addEventListener("abort", fire, { once: true });
  return {
    wait() {
      if (pending || signal?.aborted) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(fire, pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          wake = null;
          resolve();
        };
      });
    },
    close() {
      watcher?.close();
      signal?.removeEventListener("abort", fire);
    },
  };
}
