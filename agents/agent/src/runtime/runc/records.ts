import { watch } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { ContainerRecord } from "../store.ts";
import type { ContainerInfo } from "../types.ts";

export function toInfo(r: ContainerRecord): ContainerInfo {
  return {
    id: r.id,
    name: r.name,
    image: r.image,
    imageDigest: r.imageDigest,
    status: r.status,
    pid: r.pid,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    exitCode: r.exitCode,
    oomKilled: r.oomKilled,
    restartCount: r.restartCount,
    health: r.health,
    ipAddress: r.ipAddress,
    config: r.config,
  };
}

export function pidAlive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The exit code conmon wrote, or null while there is none yet. conmon creates
 * the file before it writes the number: an empty file is "not yet", not a
 * code (callers that find the process gone fall back to 255 themselves).
 */
export async function readExitCode(file: string): Promise<{ code: number; at: Date } | null> {
  try {
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    const code = Number.parseInt(text.trim(), 10);
    return Number.isInteger(code) ? { code, at: info.mtime } : null;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolve on the next change in `dir` (conmon writing the exit file) or after
 * `ms`, whichever comes first: an exit is seen at once, without busy polling.
 */
export function nextChange(dir: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | null = null;
    const done = () => {
      clearTimeout(timer);
      watcher?.close();
      resolve();
    };
    const timer = setTimeout(done, ms);
    try {
      watcher = watch(dir, done);
      watcher.on("error", () => {});
    } catch {
      // No such directory yet: the timer alone will do.
    }
  });
}
