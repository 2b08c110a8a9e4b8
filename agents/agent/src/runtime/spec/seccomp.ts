import { readFile } from "node:fs/promises";
import os from "node:os";
import { BerthError } from "@berth/protocol";
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from "./types.ts";

/** Docker's default profile in containers/common's format, as Debian ships it. */
export const DEFAULT_SECCOMP_PROFILE_PATH = "/usr/share/containers/seccomp.json";

export interface SeccompFilter {
  caps?: string[] | null;
  arches?: string[] | null;
  minKernel?: string | null;
}

export interface SeccompProfileSyscall {
  name?: string;
  names?: string[] | null;
  action: string;
  errnoRet?: number | null;
  args?: OciSeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter | null;
  excludes?: SeccompFilter | null;
  /** Errno names next to errnoRet in containers/common's file; OCI has no such field. */
  errno?: string;
}

/** A seccomp profile as moby and containers/common write it. */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number | null;
  archMap?: { architecture: string; subArchitectures?: string[] | null }[] | null;
  /** Older profiles list architectures directly. */
  architectures?: string[] | null;
  flags?: string[] | null;
  syscalls?: SeccompProfileSyscall[] | null;
}

export interface SeccompTarget {
  /** Go's name for the architecture (amd64, arm64, …), as profiles' includes/excludes use. */
  arch: string;
  /** The container's (bounding) capabilities. */
  caps: readonly string[];
  /** "major.minor[.patch]" of the running kernel, for includes.minKernel. */
  kernel: string;
}

const GO_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips: "mips",
  mipsel: "mipsle",
};

const NATIVE_SECCOMP_ARCH: Record<string, string> = {
  amd64: "SCMP_ARCH_X86_64",
  arm64: "SCMP_ARCH_AARCH64",
  arm: "SCMP_ARCH_ARM",
  "386": "SCMP_ARCH_X86",
  ppc64le: "SCMP_ARCH_PPC64LE",
  ppc64: "SCMP_ARCH_PPC64",
  s390x: "SCMP_ARCH_S390X",
  riscv64: "SCMP_ARCH_RISCV64",
  loong64: "SCMP_ARCH_LOONGARCH64",
  mips: "SCMP_ARCH_MIPS",
  mipsle: "SCMP_ARCH_MIPSEL",
};

/** Go's GOARCH for this process's architecture. */
export function goArch(nodeArch: string = process.arch, endianness = os.endianness()): string {
  if (nodeArch === "ppc64") return endianness === "LE" ? "ppc64le" : "ppc64";
  return GO_ARCH[nodeArch] ?? nodeArch;
}

/** The target of this host: its architecture and kernel, with the given capabilities. */
export function hostSeccompTarget(caps: readonly string[]): SeccompTarget {
  return { arch: goArch(), caps, kernel: os.release() };
}

function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string) => (/^(\d+)\.(\d+)/.exec(v) ?? []).slice(1, 3).map(Number);
  const [maj = 0, minor = 0] = parse(kernel);
  const [wantMaj = 0, wantMinor = 0] = parse(min);
  return maj > wantMaj || (maj === wantMaj && minor >= wantMinor);
}

/** moby's rules: every included cap present, the arch included, the kernel new enough; no excluded cap or arch. */
function applies(rule: SeccompProfileSyscall, target: SeccompTarget): boolean {
  const { includes, excludes } = rule;
  if (excludes?.arches?.includes(target.arch)) return false;
  if (excludes?.caps?.some((cap) => target.caps.includes(cap))) return false;
  if (includes?.arches?.length && !includes.arches.includes(target.arch)) return false;
  if (includes?.caps?.length && !includes.caps.every((cap) => target.caps.includes(cap))) return false;
  if (includes?.minKernel && !kernelAtLeast(target.kernel, includes.minKernel)) return false;
  return true;
}

function convertRule(rule: SeccompProfileSyscall): OciSeccompSyscall {
  const names = rule.names?.length ? [...rule.names] : rule.name ? [rule.name] : [];
  if (names.length === 0) throw new BerthError("InvalidArgument", "a seccomp rule names no syscall");
  const out: OciSeccompSyscall = { names, action: rule.action };
  if (typeof rule.errnoRet === "number") out.errnoRet = rule.errnoRet;
  if (rule.args?.length) {
    out.args = rule.args.map((a) => ({
      index: a.index,
      value: a.value,
      valueTwo: a.valueTwo ?? 0,
      op: a.op,
    }));
  }
  return out;
}

function architectures(profile: SeccompProfile, arch: string): string[] {
  if (profile.architectures?.length) return [...profile.architectures];
  const native = NATIVE_SECCOMP_ARCH[arch];
  const entry = profile.archMap?.find((a) => a.architecture === native);
  return entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [];
}

/**
 * Turn a moby/containers-common profile into OCI `linux.seccomp` for one
 * architecture and capability set, as Docker does at container creation:
 * rules whose includes/excludes do not match are dropped, and so are the
 * fields OCI has not (comment, includes, excludes, errno names).
 */
export function convertSeccompProfile(profile: SeccompProfile, target: SeccompTarget): OciSeccomp {
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (typeof profile.defaultErrnoRet === "number") out.defaultErrnoRet = profile.defaultErrnoRet;
  const arches = architectures(profile, target.arch);
  if (arches.length > 0) out.architectures = arches;
  if (profile.flags?.length) out.flags = [...profile.flags];
  out.syscalls = dropRepeats(
    (profile.syscalls ?? []).filter((rule) => applies(rule, target)).map(convertRule),
  );
  return out;
}

/** Drop a syscall from an argument-less rule when an earlier one already gives it the same action. */
function dropRepeats(rules: OciSeccompSyscall[]): OciSeccompSyscall[] {
  const seen = new Set<string>();
  const out: OciSeccompSyscall[] = [];
  for (const rule of rules) {
    if (rule.args) {
      out.push(rule);
      continue;
    }
    const key = (name: string) => `${name} ${rule.action} ${rule.errnoRet ?? ""}`;
    const names = rule.names.filter((name) => !seen.has(key(name)));
    for (const name of names) seen.add(key(name));
    if (names.length > 0) out.push({ ...rule, names });
  }
  return out;
}

/** Read a profile file (moby or containers/common format). */
export async function loadSeccompProfile(file = DEFAULT_SECCOMP_PROFILE_PATH): Promise<SeccompProfile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new BerthError(
      "FailedPrecondition",
      `cannot read the seccomp profile ${file} (on Debian: apt-get install golang-github-containers-common)`,
      { cause: err },
    );
  }
  let profile: SeccompProfile;
  try {
    profile = JSON.parse(text) as SeccompProfile;
  } catch (err) {
    throw new BerthError("InvalidArgument", `${file} is not valid JSON`, { cause: err });
  }
  if (typeof profile?.defaultAction !== "string" || !Array.isArray(profile.syscalls ?? [])) {
    throw new BerthError("InvalidArgument", `${file} is not a seccomp profile (no defaultAction/syscalls)`);
  }
  return profile;
}
