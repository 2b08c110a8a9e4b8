import { describe, expect, it } from "vitest";
import { DEFAULT_CAPABILITIES, defaultSpec, MASKED_PATHS, READONLY_PATHS } from "./defaults.ts";

describe("defaultSpec", () => {
  it("creates pid, mount, uts, ipc, network and cgroup namespaces and no user namespace", () => {
    const types = defaultSpec().linux.namespaces.map((ns) => ns.type);
    expect(types.sort()).toEqual(["cgroup", "ipc", "mount", "network", "pid", "uts"]);
    expect(defaultSpec().linux.namespaces.every((ns) => ns.path === undefined)).toBe(true);
  });

  it("grants Docker's 14 default capabilities in bounding, effective and permitted only", () => {
    const { capabilities } = defaultSpec().process;
    expect(DEFAULT_CAPABILITIES).toHaveLength(14);
    expect(capabilities.bounding).toEqual([...DEFAULT_CAPABILITIES]);
    expect(capabilities.effective).toEqual([...DEFAULT_CAPABILITIES]);
    expect(capabilities.permitted).toEqual([...DEFAULT_CAPABILITIES]);
    expect(capabilities.inheritable).toBeUndefined();
    expect(capabilities.ambient).toBeUndefined();
    expect(capabilities.bounding).not.toContain("CAP_SYS_ADMIN");
    expect(capabilities.bounding).not.toContain("CAP_NET_ADMIN");
    expect(capabilities.bounding).toContain("CAP_AUDIT_WRITE");
  });

  it("sets no_new_privileges, runs root in / and has no command yet", () => {
    const spec = defaultSpec();
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.user).toEqual({ uid: 0, gid: 0 });
    expect(spec.process.cwd).toBe("/");
    expect(spec.process.args).toEqual([]);
    expect(spec.process.terminal).toBe(false);
  });

  it("masks and write-protects Docker's /proc and /sys paths", () => {
    const spec = defaultSpec();
    expect(spec.linux.maskedPaths).toEqual([...MASKED_PATHS]);
    expect(spec.linux.maskedPaths).toContain("/proc/kcore");
    expect(spec.linux.maskedPaths).toContain("/sys/devices/virtual/powercap");
    expect(spec.linux.readonlyPaths).toEqual([...READONLY_PATHS]);
    expect(spec.linux.readonlyPaths).toContain("/proc/sysrq-trigger");
  });

  it("has the standard mounts, /sys and its cgroups read-only, /dev/shm 64 MiB", () => {
    const mounts = defaultSpec().mounts;
    expect(mounts.map((m) => m.destination)).toEqual([
      "/proc",
      "/dev",
      "/dev/pts",
      "/dev/shm",
      "/dev/mqueue",
      "/sys",
      "/sys/fs/cgroup",
    ]);
    const by = (d: string) => mounts.find((m) => m.destination === d)!;
    expect(by("/dev").type).toBe("tmpfs");
    expect(by("/sys").options).toContain("ro");
    expect(by("/sys").options).toContain("nosuid");
    expect(by("/sys/fs/cgroup")).toMatchObject({ type: "cgroup", options: expect.arrayContaining(["ro"]) });
    expect(by("/dev/shm").options).toContain(`size=${64 * 1024 * 1024}`);
    expect(by("/dev/mqueue").type).toBe("mqueue");
  });

  it("denies every device first, then allows only the standard ones", () => {
    const rules = defaultSpec().linux.resources.devices;
    expect(rules[0]).toEqual({ allow: false, access: "rwm" });
    const allowed = rules
      .filter((r) => r.allow && r.access === "rwm")
      .map((r) => `${r.major}:${r.minor ?? "*"}`);
    expect(allowed.sort()).toEqual(["1:3", "1:5", "1:7", "1:8", "1:9", "136:*", "5:0", "5:1", "5:2"].sort());
  });

  it("returns a fresh object every time", () => {
    const a = defaultSpec();
    a.process.capabilities.bounding.push("CAP_SYS_ADMIN");
    a.mounts.pop();
    expect(defaultSpec().process.capabilities.bounding).not.toContain("CAP_SYS_ADMIN");
    expect(defaultSpec().mounts).toHaveLength(7);
  });
});
