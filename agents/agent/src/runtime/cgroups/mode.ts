/** Which cgroup hierarchy the host runs, from its mount table (the parser lives in facts.ts). */
import { readFile } from "node:fs/promises";
import type { CgroupMode } from "@berth/protocol";
import { cgroupModeFromMounts, detectCgroupMode, parseMountTable } from "../../facts.ts";

export type { CgroupMode };

/** v1, v2 or hybrid from /proc/self/mountinfo text; null when no cgroup is mounted. */
export function cgroupModeFromMountinfo(text: string): CgroupMode | null {
  return cgroupModeFromMounts(parseMountTable(text));
}

/** The host's cgroup mode, from `mountinfoPath` (falling back to facts.ts's detection when it says nothing). */
export async function readCgroupMode(mountinfoPath = "/proc/self/mountinfo"): Promise<CgroupMode> {
  const text = await readFile(mountinfoPath, "utf8").catch(() => null);
  return (text !== null && cgroupModeFromMountinfo(text)) || detectCgroupMode();
}

/**
 * Where a container's limits live: v1 controllers on v1 and hybrid hosts
 * (runc puts them there; the hybrid unified mount holds no controller), the
 * unified tree on v2.
 */
export function controllerLayout(mode: CgroupMode): "v1" | "v2" {
  return mode === "v2" ? "v2" : "v1";
}
