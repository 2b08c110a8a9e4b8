import { BerthError } from "@berth/protocol";
import type { SpecOpt } from "./types.ts";

/** Docker's minimum memory limit: below this a container cannot even start its runtime. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
export const CPU_PERIOD_US = 100_000;
/** The kernel refuses a CFS quota under 1 ms. */
const MIN_CPU_QUOTA_US = 1000;

function positiveInteger(what: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new BerthError(
      "InvalidArgument",
      `${what} must be a whole number from ${min} to ${max}, not ${value}`,
    );
  }
}

/**
 * Limit memory to `bytes`. Swap is set to the same total (memory+swap on
 * cgroup v1, memory.swap.max = 0 on v2), so the container gets no swap
 * beyond its limit.
 */
export function withMemoryLimit(bytes: number): SpecOpt {
  positiveInteger("the memory limit (bytes)", bytes, MIN_MEMORY_BYTES);
  return (spec) => {
    spec.linux.resources.memory = { ...spec.linux.resources.memory, limit: bytes, swap: bytes };
  };
}

/** Limit CPU time to `cpus` cores: quota = cpus × 100 ms per 100 ms period. */
export function withCpuQuota(cpus: number): SpecOpt {
  const quota = Math.round(cpus * CPU_PERIOD_US);
  if (!Number.isFinite(cpus) || quota < MIN_CPU_QUOTA_US) {
    throw new BerthError(
      "InvalidArgument",
      `cpus must be at least ${MIN_CPU_QUOTA_US / CPU_PERIOD_US}, not ${cpus}`,
    );
  }
  return (spec) => {
    spec.linux.resources.cpu = { ...spec.linux.resources.cpu, quota, period: CPU_PERIOD_US };
  };
}

/** Relative CPU weight, Docker's --cpu-shares (runc maps it to cpu.weight on v2). */
export function withCpuShares(shares: number): SpecOpt {
  positiveInteger("cpu shares", shares, 2, 262_144);
  return (spec) => {
    spec.linux.resources.cpu = { ...spec.linux.resources.cpu, shares };
  };
}

/** At most `limit` processes and threads in the container. */
export function withPidsLimit(limit: number): SpecOpt {
  positiveInteger("the pids limit", limit, 1);
  return (spec) => {
    spec.linux.resources.pids = { limit };
  };
}

const CGROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * The cgroup path for a container with the cgroupfs driver: "/<parent>/<id>",
 * below each v1 controller's root or the v2 root (runc creates it).
 */
export function cgroupsPathFor(id: string, parent = "berth"): string {
  for (const part of [parent, id]) {
    if (!CGROUP_NAME.test(part)) {
      throw new BerthError("InvalidArgument", `"${part}" cannot be part of a cgroup path`);
    }
  }
  return `/${parent}/${id}`;
}

export function withCgroupsPath(cgroupsPath: string): SpecOpt {
  if (!cgroupsPath.startsWith("/") || cgroupsPath.split("/").includes("..")) {
    throw new BerthError("InvalidArgument", `cgroups path "${cgroupsPath}" must be absolute without ".."`);
  }
  return (spec) => {
    spec.linux.cgroupsPath = cgroupsPath;
  };
}
