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

export async function readExitCode(file: string): Promise<{ code: number; at: Date } | null> {
  try {
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    const code = Number.parseInt(text.trim(), 10);
    return { code: Number.isInteger(code) ? code : 255, at: info.mtime };
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
