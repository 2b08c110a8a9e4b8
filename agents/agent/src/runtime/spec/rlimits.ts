import { readFile } from "node:fs/promises";
import { BerthError } from "@berth/protocol";
import type { OciRlimit, SpecOpt } from "./types.ts";

/** A limit from /proc/<pid>/limits; null is "unlimited". */
export interface HostRlimit {
  soft: number | null;
  hard: number | null;
}

export type HostRlimits = ReadonlyMap<string, HostRlimit>;

const LIMIT_NAMES: Record<string, string> = {
  "Max cpu time": "RLIMIT_CPU",
  "Max file size": "RLIMIT_FSIZE",
  "Max data size": "RLIMIT_DATA",
  "Max stack size": "RLIMIT_STACK",
  "Max core file size": "RLIMIT_CORE",
  "Max resident set": "RLIMIT_RSS",
  "Max processes": "RLIMIT_NPROC",
  "Max open files": "RLIMIT_NOFILE",
  "Max locked memory": "RLIMIT_MEMLOCK",
  "Max address space": "RLIMIT_AS",
  "Max file locks": "RLIMIT_LOCKS",
  "Max pending signals": "RLIMIT_SIGPENDING",
  "Max msgqueue size": "RLIMIT_MSGQUEUE",
  "Max nice priority": "RLIMIT_NICE",
  "Max realtime priority": "RLIMIT_RTPRIO",
  "Max realtime timeout": "RLIMIT_RTTIME",
};

export const RLIMIT_TYPES: readonly string[] = Object.values(LIMIT_NAMES);

/**
 * Containers get Docker 25's file limit, 1024 soft / 524288 hard — clamped to
 * the agent's own hard limit by `withRlimits`, so it never exceeds what the
 * host allows (podman's 1048576 does, and its containers fail to start).
 */
export const DEFAULT_RLIMITS: readonly OciRlimit[] = [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 524288 }];

function parseLimitValue(text: string | undefined): number | null {
  if (text === undefined || text === "unlimited") return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/** Parse /proc/<pid>/limits text ("Max open files  1024  4096  files"). */
export function parseProcLimits(text: string): Map<string, HostRlimit> {
  const limits = new Map<string, HostRlimit>();
  for (const line of text.split("\n")) {
    const match = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    const type = match ? LIMIT_NAMES[match[1]!] : undefined;
    if (match && type) limits.set(type, { soft: parseLimitValue(match[2]), hard: parseLimitValue(match[3]) });
  }
  return limits;
}

/** The agent process's own limits: a container cannot be given more than these. */
export async function readHostRlimits(file = "/proc/self/limits"): Promise<HostRlimits> {
  return parseProcLimits(await readFile(file, "utf8"));
}

function validate(limit: OciRlimit): void {
  if (!RLIMIT_TYPES.includes(limit.type)) {
    throw new BerthError(
      "InvalidArgument",
      `unknown rlimit ${limit.type}; known: ${RLIMIT_TYPES.join(", ")}`,
    );
  }
  const ok = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!ok(limit.soft) || !ok(limit.hard) || limit.soft > limit.hard) {
    throw new BerthError(
      "InvalidArgument",
      `rlimit ${limit.type}: soft ${limit.soft} and hard ${limit.hard} must be whole numbers with soft <= hard`,
    );
  }
}

/** Lower a requested limit to the host's hard limit (soft follows hard down). */
export function clampRlimit(limit: OciRlimit, host: HostRlimits): OciRlimit {
  validate(limit);
  const hostHard = host.get(limit.type)?.hard ?? null;
  const hard = hostHard === null ? limit.hard : Math.min(limit.hard, hostHard);
  return { type: limit.type, soft: Math.min(limit.soft, hard), hard };
}

/**
 * Set rlimits, each clamped to the host's hard limit so runc never tries to
 * raise one above what the agent itself may use. A later entry of the same
 * type replaces an earlier one.
 */
export function withRlimits(limits: readonly OciRlimit[], host: HostRlimits): SpecOpt {
  return (spec) => {
    for (const limit of limits) {
      const clamped = clampRlimit(limit, host);
      spec.process.rlimits = spec.process.rlimits.filter((r) => r.type !== clamped.type);
      spec.process.rlimits.push(clamped);
    }
  };
}
