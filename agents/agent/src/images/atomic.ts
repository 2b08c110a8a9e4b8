import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";

/** Write a file so readers see the old or the new content, never a mix: temp file, fsync, rename, fsync dir. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const handle = await open(temp, "wx", 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Parsed JSON from `file`, or `fallback` when the file does not exist. */
export async function readJson<T>(file: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return fallback;
    throw new BerthError("Internal", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Remove the lock file when the process that holds it has died. */
async function breakStaleLock(lockFile: string): Promise<void> {
  const pid = Number(await readFile(lockFile, "utf8").catch(() => ""));
  if (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid)) await unlink(lockFile).catch(() => {});
}

async function acquire(lockFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const handle = await open(lockFile, "wx", 0o644);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    await breakStaleLock(lockFile);
    if (Date.now() > deadline) {
      throw new BerthError("Unavailable", `timed out after ${timeoutMs} ms waiting for the lock ${lockFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(5 * 2 ** attempt, 100)));
  }
}

/**
 * Run `fn` holding an exclusive lock file (created with O_EXCL, holding our
 * pid), so writers in other processes — the daemon, the CLI — take turns. A
 * lock left by a dead process is broken.
 */
export async function withLockFile<T>(
  lockFile: string,
  fn: () => Promise<T>,
  timeoutMs = 10_000,
): Promise<T> {
  await acquire(lockFile, timeoutMs);
  try {
    return await fn();
  } finally {
    await unlink(lockFile).catch(() => {});
  }
}
