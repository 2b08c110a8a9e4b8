import { constants } from "node:fs";
import { access, readdir, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type CgroupMode, type HostFacts, hostFactsSchema } from "@berth/protocol";
import type { Logger } from "pino";
import { runProgram } from "./exec.ts";

/** Directories searched for runc, crun and conmon besides $PATH (daemons often start with a thin PATH). */
export const EXTRA_BIN_DIRS = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];
export const CNI_DIRS = ["/usr/lib/cni", "/opt/cni/bin"];
const MAX_VERSION_CHARS = 200;

// ---- pure parsing -------------------------------------------------------

/** The OS name from os-release text: PRETTY_NAME, else NAME VERSION, else "Linux". */
export function parseOsRelease(text: string): string {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) values.set(match[1]!, unquote(match[2]!.trim()));
  }
  const name =
    values.get("PRETTY_NAME") || [values.get("NAME"), values.get("VERSION")].filter(Boolean).join(" ");
  return (name || "Linux").slice(0, 200);
}

function unquote(value: string): string {
  const quoted = /^(["'])(.*)\1$/.exec(value);
  if (!quoted) return value;
  return quoted[1] === '"' ? quoted[2]!.replace(/\\(["\\$`])/g, "$1") : quoted[2]!;
}

export interface Mount {
  mountPoint: string;
  fsType: string;
}

/** Parse /proc/self/mountinfo or /proc/mounts text (the format is detected per line). */
export function parseMountTable(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const separator = fields.indexOf("-");
    if (separator >= 6 && fields[4] && fields[separator + 1]) {
      mounts.push({ mountPoint: unescapeMount(fields[4]), fsType: fields[separator + 1]! });
    } else if (separator === -1 && fields.length >= 3) {
      mounts.push({ mountPoint: unescapeMount(fields[1]!), fsType: fields[2]! });
    }
  }
  return mounts;
}

/** The kernel escapes space, tab, newline and backslash in mount paths as \ooo. */
function unescapeMount(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * The cgroup mode from a mount table: v2 when /sys/fs/cgroup itself is
 * cgroup2; hybrid when v1 controllers are mounted and /sys/fs/cgroup/unified
 * is cgroup2; v1 when only v1 controllers are; null when no cgroup is mounted.
 */
export function cgroupModeFromMounts(mounts: readonly Mount[]): CgroupMode | null {
  const last = (mountPoint: string) => mounts.findLast((m) => m.mountPoint === mountPoint);
  if (last("/sys/fs/cgroup")?.fsType === "cgroup2") return "v2";
  const hasV1 = mounts.some((m) => m.fsType === "cgroup");
  if (hasV1) return last("/sys/fs/cgroup/unified")?.fsType === "cgroup2" ? "hybrid" : "v1";
  return mounts.some((m) => m.fsType === "cgroup2") ? "v2" : null;
}

/** The version from `<program> --version` output ("runc version 1.1.5" → "1.1.5"). */
export function parseVersionOutput(output: string): string {
  const first =
    output
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim() ?? "";
  const match = /\bversion:?\s+v?(\S+)/i.exec(first);
  return (match?.[1] ?? (first || "unknown")).slice(0, MAX_VERSION_CHARS);
}

export type RuntimeName = "runc" | "crun";

/**
 * crun only where cgroups are v2 (crun 1.8 refuses hybrid hosts); runc
 * everywhere else. null when the preferred runtime for this mode is missing.
 */
export function chooseRuntime(
  mode: CgroupMode,
  found: Readonly<Record<RuntimeName, string | null>>,
): { name: RuntimeName; path: string } | null {
  if (mode === "v2" && found.crun) return { name: "crun", path: found.crun };
  if (found.runc) return { name: "runc", path: found.runc };
  return null;
}

/** Node's architecture names → the OCI/Go names images are published under. */
export function normaliseArch(nodeArch: string, endianness: "BE" | "LE" = "LE"): string {
  if (nodeArch === "x64") return "amd64";
  if (nodeArch === "ia32") return "386";
  if (nodeArch === "ppc64" && endianness === "LE") return "ppc64le";
  return nodeArch;
}

/** $PATH entries (absolute only) followed by EXTRA_BIN_DIRS, without duplicates. */
export function searchDirs(pathEnv: string | undefined): string[] {
  const fromPath = (pathEnv ?? "").split(":").filter((dir) => path.isAbsolute(dir));
  return [...new Set([...fromPath, ...EXTRA_BIN_DIRS])];
}

// ---- reading the host ---------------------------------------------------

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in `dirs`, or null. */
export async function findExecutable(name: string, dirs: readonly string[]): Promise<string | null> {
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** Sorted names of the executables in the CNI plugin directories. */
export async function listCniPlugins(dirs: readonly string[] = CNI_DIRS): Promise<string[]> {
  const names = new Set<string>();
  for (const dir of dirs) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const name of entries) {
      if (name.length <= 100 && (await isExecutableFile(path.join(dir, name)))) names.add(name);
    }
  }
  return [...names].sort().slice(0, 200);
}

async function readText(file: string): Promise<string | null> {
  return readFile(file, "utf8").catch(() => null);
}

export async function detectCgroupMode(): Promise<CgroupMode> {
  const table = (await readText("/proc/self/mountinfo")) ?? (await readText("/proc/mounts")) ?? "";
  const mode = cgroupModeFromMounts(parseMountTable(table));
  if (mode) return mode;
  // No mount table (or no cgroup in it): fall back to the v2 marker file.
  return (await readText("/sys/fs/cgroup/cgroup.controllers")) === null ? "v1" : "v2";
}

async function programVersion(file: string, log?: Logger): Promise<string> {
  try {
    return parseVersionOutput(await runProgram(file, ["--version"]));
  } catch (err) {
    log?.warn({ err, program: file }, "could not read the program's version");
    return "unknown";
  }
}

export interface CollectFactsOptions {
  /** The $PATH to search for runc, crun and conmon (env.ts reads it). */
  searchPath?: string;
  log?: Logger;
}

/** Everything the control plane needs to know about this host, validated against the protocol. */
export async function collectFacts(options: CollectFactsOptions = {}): Promise<HostFacts> {
  const dirs = searchDirs(options.searchPath);
  const [osRelease, cgroupMode, runc, crun, conmon, cniPlugins] = await Promise.all([
    readText("/etc/os-release").then(async (text) => text ?? (await readText("/usr/lib/os-release"))),
    detectCgroupMode(),
    findExecutable("runc", dirs),
    findExecutable("crun", dirs),
    findExecutable("conmon", dirs),
    listCniPlugins(),
  ]);
  const runtime = chooseRuntime(cgroupMode, { runc, crun });
  return hostFactsSchema.parse({
    hostname: os.hostname().slice(0, 253) || "localhost",
    os: parseOsRelease(osRelease ?? ""),
    arch: normaliseArch(os.arch(), os.endianness()),
    kernel: os.release().slice(0, 200),
    cpus: Math.max(1, os.availableParallelism()),
    memoryBytes: os.totalmem(),
    cgroupMode,
    runtime: runtime && { name: runtime.name, version: await programVersion(runtime.path, options.log) },
    conmon: conmon && { version: await programVersion(conmon, options.log) },
    cniPlugins,
  });
}
