/** Usage on cgroup v2: one unified tree (/sys/fs/cgroup/<cgroupsPath>). */
import { cgroupDir, isDirectory, readFlatKeyed, readNumber } from "./files.ts";

export interface CgroupUsage {
  cpuUsageNs: number;
  memoryBytes: number;
  /** null: no limit. */
  memoryLimitBytes: number | null;
  pids: number;
  /** Processes the kernel's OOM killer killed in this cgroup. */
  oomKills: number;
}

/** The container's usage, or null when the cgroup does not exist. */
export async function readV2Usage(root: string, cgroupsPath: string): Promise<CgroupUsage | null> {
  const dir = cgroupDir(root, "", cgroupsPath);
  if (!(await isDirectory(dir))) return null;
  const [cpuStat, current, max, pids, events] = await Promise.all([
    readFlatKeyed(`${dir}/cpu.stat`),
    readNumber(`${dir}/memory.current`),
    readNumber(`${dir}/memory.max`),
    readNumber(`${dir}/pids.current`),
    readFlatKeyed(`${dir}/memory.events`),
  ]);
  return {
    cpuUsageNs: (cpuStat?.get("usage_usec") ?? 0) * 1000,
    memoryBytes: current ?? 0,
    memoryLimitBytes: max === null || max === Number.POSITIVE_INFINITY ? null : max,
    pids: pids ?? 0,
    oomKills: events?.get("oom_kill") ?? 0,
  };
}
