import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CAPABILITIES } from "./defaults.ts";
import { convertSeccompProfile, goArch, loadSeccompProfile, type SeccompProfile } from "./seccomp.ts";
import { defaultSeccomp, gateAdminSyscalls } from "./seccomp-gate.ts";
import type { OciSeccomp } from "./types.ts";

const fixtures = path.join(import.meta.dirname, "__fixtures__", "seccomp");
const fixture = async (name: string) =>
  JSON.parse(await readFile(path.join(fixtures, name), "utf8")) as SeccompProfile;

const caps = [...DEFAULT_CAPABILITIES];
const amd64 = { arch: "amd64", caps, kernel: "6.18.0" };

/** True when some rule allows the syscall whatever its arguments. */
function allows(seccomp: OciSeccomp, name: string): boolean {
  return (seccomp.syscalls ?? []).some(
    (s) => s.names.includes(name) && s.action === "SCMP_ACT_ALLOW" && !s.args,
  );
}

function names(seccomp: OciSeccomp): string[] {
  return (seccomp.syscalls ?? []).flatMap((s) => s.names);
}

describe("convertSeccompProfile", () => {
  it("keeps the default action, errno and this architecture's arches", async () => {
    const out = convertSeccompProfile(await fixture("moby-style.json"), amd64);
    expect(out.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(out.defaultErrnoRet).toBe(1);
    expect(out.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    const arm = convertSeccompProfile(await fixture("moby-style.json"), { ...amd64, arch: "arm64" });
    expect(arm.architectures).toEqual(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
  });

  it("drops rules for other arches, excluded arches and missing caps", async () => {
    const out = convertSeccompProfile(await fixture("moby-style.json"), amd64);
    expect(names(out)).toContain("arch_prctl");
    expect(names(out)).not.toContain("arm_fadvise64_64");
    expect(names(out)).not.toContain("vm86");
    expect(allows(out, "mount")).toBe(false);
    expect(allows(out, "unshare")).toBe(false);
    expect(allows(out, "read")).toBe(true);
    expect(names(out)).not.toContain("open_by_handle_at");
    expect(out.syscalls).toContainEqual({ names: ["setns"], action: "SCMP_ACT_ERRNO", errnoRet: 1 });
  });

  it("with CAP_SYS_ADMIN allows the admin syscalls and drops the rules that exclude it", async () => {
    const out = convertSeccompProfile(await fixture("moby-style.json"), {
      ...amd64,
      caps: [...caps, "CAP_SYS_ADMIN"],
    });
    expect(allows(out, "mount")).toBe(true);
    expect(allows(out, "setns")).toBe(true);
    expect(out.syscalls!.some((s) => s.action === "SCMP_ACT_ERRNO")).toBe(false);
    expect(names(out)).not.toContain("open_by_handle_at");
  });

  it("honours minKernel", async () => {
    const profile = await fixture("moby-style.json");
    expect(names(convertSeccompProfile(profile, amd64))).toContain("io_uring_setup");
    expect(names(convertSeccompProfile(profile, { ...amd64, kernel: "4.19.0-25-amd64" }))).not.toContain(
      "io_uring_setup",
    );
  });

  it("writes only OCI fields: single names become lists, args get valueTwo", async () => {
    const out = convertSeccompProfile(await fixture("moby-style.json"), amd64);
    expect(out.syscalls).toContainEqual({ names: ["getpid"], action: "SCMP_ACT_ALLOW" });
    expect(out.syscalls).toContainEqual({
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: 8, valueTwo: 0, op: "SCMP_CMP_EQ" }],
    });
    for (const rule of out.syscalls!) {
      expect(Object.keys(rule).every((k) => ["names", "action", "errnoRet", "args"].includes(k))).toBe(true);
    }
  });
});

describe("gateAdminSyscalls", () => {
  it("takes mount, unshare, setns and namespace clones away from containers without CAP_SYS_ADMIN", async () => {
    const profile = await fixture("containers-common-style.json");
    expect(allows(convertSeccompProfile(profile, amd64), "mount")).toBe(true);
    const gated = convertSeccompProfile(gateAdminSyscalls(profile), amd64);
    for (const name of ["mount", "umount2", "unshare", "setns", "clone", "clone3"]) {
      expect(allows(gated, name), name).toBe(false);
    }
    expect(allows(gated, "read")).toBe(true);
    expect(gated.syscalls).toContainEqual({
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    });
    expect(gated.syscalls).toContainEqual({ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 });
  });

  it("gives them back with CAP_SYS_ADMIN", async () => {
    const gated = convertSeccompProfile(gateAdminSyscalls(await fixture("containers-common-style.json")), {
      ...amd64,
      caps: [...caps, "CAP_SYS_ADMIN"],
    });
    for (const name of ["mount", "unshare", "setns", "clone", "clone3"])
      expect(allows(gated, name), name).toBe(true);
    expect(gated.syscalls!.some((s) => s.action === "SCMP_ACT_ERRNO")).toBe(false);
  });
});

describe("the default profile of this host", () => {
  it("loads Debian's containers/common profile", async () => {
    const profile = await loadSeccompProfile();
    expect(profile.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(profile.syscalls!.length).toBeGreaterThan(10);
  });

  it("refuses mount and unshare with Docker's default caps, allows read", async () => {
    const seccomp = await defaultSeccomp(caps);
    expect(allows(seccomp, "read")).toBe(true);
    expect(allows(seccomp, "mount")).toBe(false);
    expect(allows(seccomp, "unshare")).toBe(false);
    expect(allows(seccomp, "setns")).toBe(false);
    if (goArch() === "amd64") expect(seccomp.architectures?.[0]).toBe("SCMP_ARCH_X86_64");
  });

  it("never both allows and refuses a syscall without conditions (libseccomp would reject that)", async () => {
    for (const set of [caps, [...caps, "CAP_SYS_ADMIN"]]) {
      const seccomp = await defaultSeccomp(set);
      const plain = (seccomp.syscalls ?? []).filter((s) => !s.args);
      const allowed = new Set(plain.filter((s) => s.action === "SCMP_ACT_ALLOW").flatMap((s) => s.names));
      const refused = plain.filter((s) => s.action !== "SCMP_ACT_ALLOW").flatMap((s) => s.names);
      expect(refused.filter((n) => allowed.has(n))).toEqual([]);
    }
  });

  it("refuses a file that is not a profile", async () => {
    await expect(loadSeccompProfile(path.join(fixtures, "..", "..", "seccomp.ts"))).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    await expect(loadSeccompProfile("/nonexistent/seccomp.json")).rejects.toMatchObject({
      code: "FailedPrecondition",
    });
  });
});
