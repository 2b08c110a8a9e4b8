/**
 * Size-based rotation of a log file that conmon keeps open. conmon's own
 * `--log-size-max` does not rotate: it reopens the file with O_TRUNC and
 * loses the history. So the agent rotates by copytruncate: copy the file to
 * `path.1` (after shifting `.1` → `.2` …), then truncate it in place; conmon's
 * descriptor stays valid. conmon opens the k8s-file log with O_APPEND
 * (src/ctr_logging.c), so its next write lands at offset 0 — but a descriptor
 * conmon reopened itself (after --log-size-max or SIGUSR1) has no O_APPEND and
 * leaves a sparse hole of NULs before its next write, which the readers skip
 * (files.ts) and the copy keeps sparse.
 *
 * Bytes written between the end of the copy and the truncation are lost (the
 * classic copytruncate window, one await long here); a follower that sees the
 * truncation recovers what it had not read yet from `path.1` (follow.ts).
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";

export interface RotateOptions {
  /** Rotate once the live file reaches this size. */
  maxBytes: number;
  /**
   * Files kept in all, counting the live one (Docker's `max-file`): 3 keeps
   * `path`, `path.1` and `path.2`. 1 means truncate without keeping a copy.
   */
  maxFiles: number;
}

const COPY_CHUNK_BYTES = 1024 * 1024;
const inFlight = new Map<string, Promise<boolean>>();

/** Rotate `path` if it has reached `maxBytes`; true when it did. Concurrent calls for one path share a run. */
export function rotateIfNeeded(path: string, options: RotateOptions): Promise<boolean> {
  const running = inFlight.get(path);
  if (running) return running;
  const run = rotate(path, options).finally(() => inFlight.delete(path));
  inFlight.set(path, run);
  return run;
}

async function rotate(path: string, options: RotateOptions): Promise<boolean> {
  if (!(options.maxBytes > 0) || !Number.isInteger(options.maxFiles) || options.maxFiles < 1) {
    throw new RangeError(
      `rotation needs maxBytes > 0 and an integer maxFiles ≥ 1 (got ${JSON.stringify(options)})`,
    );
  }
  let live: FileHandle;
  try {
    live = await open(path, "r+");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  try {
    if ((await live.stat()).size < options.maxBytes) return false;
    const keep = options.maxFiles - 1;
    if (keep > 0) {
      await copyWithoutHoles(live, `${path}.1.tmp`);
      await shiftRotated(path, keep);
      await rename(`${path}.1.tmp`, `${path}.1`);
    }
    await live.truncate(0);
    return true;
  } finally {
    await live.close();
  }
}

/** `.keep` is dropped; `.n` → `.n+1` for the others, newest last. */
async function shiftRotated(path: string, keep: number): Promise<void> {
  await rm(`${path}.${keep}`, { force: true });
  for (let n = keep - 1; n >= 1; n--) {
    await rename(`${path}.${n}`, `${path}.${n + 1}`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}

/**
 * Copy `source` to `target` up to its current end. A leading run of NULs (a
 * sparse hole) is not written: the copy has a hole there too, and every byte
 * keeps its offset, which lets a follower recognise the copy (follow.ts).
 */
async function copyWithoutHoles(source: FileHandle, target: string): Promise<void> {
  const out = await open(target, "w", 0o600);
  try {
    const buf = Buffer.alloc(COPY_CHUNK_BYTES);
    let pos = 0;
    let inHole = true;
    for (;;) {
      const { bytesRead } = await source.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      let from = 0;
      if (inHole) {
        while (from < bytesRead && buf[from] === 0) from++;
        if (from === bytesRead) continue;
        inHole = false;
      }
      // Written at the same offset: the copy keeps the hole (sparse, no disk) so offsets match.
      await out.write(buf, from, bytesRead - from, pos - bytesRead + from);
    }
    await out.sync();
  } finally {
    await out.close();
  }
}

/** Remove a log file and its rotated copies (when its container is removed). */
export async function removeLogFiles(path: string, maxFiles = 100): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.1.tmp`, { force: true });
  for (let n = 1; n <= maxFiles; n++) await rm(`${path}.${n}`, { force: true });
}
