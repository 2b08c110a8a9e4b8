/**
 * Usage on cgroup v1 (and hybrid hosts): one hierarchy per controller under
 * the root (/sys/fs/cgroup/<controller>/<cgroupsPath>).
 */
import { cgroupDir, isDirectory, readFlatKeyed, readNumber } from "./files.ts";
import type { CgroupUsage } from "./v2.ts";

/**
 * The kernel reports "no limit" as the largest page-aligned 63-bit value
 * (9223372036854771712 with 4 KiB pages); anything this large means unlimited.
 */
const UNLIMITED_THRESHOLD = 2 ** 62;

/** cpuacct is mounted alone or co-mounted with cpu; systemd adds symlinks, bare hosts may not. */
const CPUACCT_DIRS = ["cpuacct", "cpu,cpuacct", "cpuacct,cpu"];

/** The container's usage, or null when no controller knows the cgroup. */
export async function readV1Usage(root: string, cgroupsPath: string): Promise<CgroupUsage | null> {
  const memory = cgroupDir(root, "memory", cgroupsPath);
  const pids = cgroupDir(root, "pids", cgroupsPath);
  const cpuacct = await firstDirectory(CPUACCT_DIRS.map((c) => cgroupDir(root, c, cgroupsPath)));
  const [hasMemory, hasPids] = await Promise.all([isDirectory(memory), isDirectory(pids)]);
  if (!hasMemory && !hasPids && !cpuacct) return null;
  const [cpu, usage, limit, pidsCurrent, oomKills] = await Promise.all([
    cpuacct ? readNumber(`${cpuacct}/cpuacct.usage`) : null,
    readNumber(`${memory}/memory.usage_in_bytes`),
    readNumber(`${memory}/memory.limit_in_bytes`),
    readNumber(`${pids}/pids.current`),
    readV1OomKills(memory),
  ]);
  return {
    cpuUsageNs: cpu ?? 0,
    memoryBytes: usage ?? 0,
    memoryLimitBytes: limit === null || limit >= UNLIMITED_THRESHOLD ? null : limit,
    pids: pidsCurrent ?? 0,
    oomKills,
  };
}

/**
 * `oom_kill N` from memory.oom_control (Linux ≥ 4.13). Older kernels only
 * count how often the limit was hit (memory.failcnt): an upper bound, used
 * as a fallback so an OOM is not reported as nothing.
 */
async function readV1OomKills(memoryDir: string): Promise<number> {
  const control = await readFlatKeyed(`${memoryDir}/memory.oom_control`);
  const kills = control?.get("oom_kill");
  if (kills !== undefined) return kills;
  return (await readNumber(`${memoryDir}/memory.failcnt`)) ?? 0;
}

async function firstDirectory(dirs: readonly string[]): Promise<string | null> {
  for (const dir of dirs) if (await isDirectory(dir)) return dir;
  return null;
}
