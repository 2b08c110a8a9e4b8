/** A container's resource usage, from its cgroup (v1 or v2) and its init's network namespace. */
import { BerthError } from "@berth/protocol";
import type { ContainerStats } from "../types.ts";
import { type CgroupMode, controllerLayout, readCgroupMode } from "./mode.ts";
import { readNetworkBytes } from "./net.ts";
import { readV1Usage } from "./v1.ts";
import { type CgroupUsage, readV2Usage } from "./v2.ts";

export interface ReadStatsOptions {
  /** As given to runc's linux.cgroupsPath, e.g. "/berth/<id>". */
  cgroupsPath: string;
  /** Host pid of the container's init; null when it is not running. */
  pid: number | null;
  /** Detected from /proc/self/mountinfo when absent. */
  mode?: CgroupMode;
  /** Default /sys/fs/cgroup. */
  cgroupRoot?: string;
  /** Default /proc. */
  procRoot?: string;
}

/** ContainerStats plus the OOM kills the cgroup has seen. */
export interface HostContainerStats extends ContainerStats {
  oomKills: number;
}

export const DEFAULT_CGROUP_ROOT = "/sys/fs/cgroup";

/** Usage now; NotFound when the cgroup does not exist (the container is gone or never ran). */
export async function readContainerStats(options: ReadStatsOptions): Promise<HostContainerStats> {
  const mode = options.mode ?? (await readCgroupMode());
  const root = options.cgroupRoot ?? DEFAULT_CGROUP_ROOT;
  const [usage, network] = await Promise.all([
    readCgroupUsage(mode, root, options.cgroupsPath),
    readNetworkBytes(options.pid, options.procRoot),
  ]);
  if (!usage) {
    throw new BerthError(
      "NotFound",
      `no cgroup ${options.cgroupsPath} under ${root} (is the container running?)`,
    );
  }
  return { ...usage, networkRxBytes: network.rxBytes, networkTxBytes: network.txBytes };
}

export function readCgroupUsage(
  mode: CgroupMode,
  root: string,
  cgroupsPath: string,
): Promise<CgroupUsage | null> {
  return controllerLayout(mode) === "v2" ? readV2Usage(root, cgroupsPath) : readV1Usage(root, cgroupsPath);
}

/**
 * CPU use between two samples as a percentage of one CPU, like `docker
 * stats` (so 0 … onlineCpus × 100). 0 when the counter went backwards (the
 * container restarted) or no time passed.
 */
export function cpuPercent(
  prev: Pick<ContainerStats, "cpuUsageNs">,
  next: Pick<ContainerStats, "cpuUsageNs">,
  elapsedNs: number,
  onlineCpus: number,
): number {
  const used = next.cpuUsageNs - prev.cpuUsageNs;
  if (!(elapsedNs > 0) || !(used > 0)) return 0;
  const percent = (used / elapsedNs) * 100;
  return Math.min(percent, Math.max(1, onlineCpus) * 100);
}
