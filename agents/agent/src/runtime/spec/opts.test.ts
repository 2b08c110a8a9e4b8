import { describe, expect, it } from "vitest";
import { applySpecOpts } from "./build.ts";
import { DEFAULT_PATH } from "./defaults.ts";
import { withHostname, withNetworkNamespace, withSeccomp } from "./linux.ts";
import { withEtcFiles, withMounts, withReadonlyRootfs, withRootfs, withShmSize } from "./mounts.ts";
import { withCwd, withEnv, withProcessArgs, withTty, withUser } from "./process.ts";
import {
  cgroupsPathFor,
  withCgroupsPath,
  withCpuQuota,
  withCpuShares,
  withMemoryLimit,
  withPidsLimit,
} from "./resources.ts";

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return "no error";
};

describe("process options", () => {
  it("withProcessArgs sets argv and refuses an empty command", () => {
    expect(applySpecOpts([withProcessArgs(["/bin/sh", "-c", "echo hi"])]).process.args).toEqual([
      "/bin/sh",
      "-c",
      "echo hi",
    ]);
    expect(code(() => withProcessArgs([]))).toBe("InvalidArgument");
    expect(code(() => withProcessArgs(["a\0b"]))).toBe("InvalidArgument");
  });

  it("withEnv merges the image's env under the container's and adds PATH only when missing", () => {
    const env = applySpecOpts([withEnv(["A=image", "B=image"], { B: "mine", C: "x=y" })]).process.env;
    expect(env).toEqual(["A=image", "B=mine", "C=x=y", `PATH=${DEFAULT_PATH}`]);
    const withPath = applySpecOpts([withEnv(["PATH=/opt/bin"], {})]).process.env;
    expect(withPath).toEqual(["PATH=/opt/bin"]);
    expect(code(() => withEnv([], { "A=B": "x" }))).toBe("InvalidArgument");
    expect(code(() => withEnv([], { "": "x" }))).toBe("InvalidArgument");
  });

  it("withCwd needs an absolute path", () => {
    expect(applySpecOpts([withCwd("/srv/app")]).process.cwd).toBe("/srv/app");
    expect(code(() => withCwd("srv"))).toBe("InvalidArgument");
  });

  it("withUser takes numeric ids without any files and adds HOME", () => {
    const spec = applySpecOpts([withUser("1000:2000")]);
    expect(spec.process.user).toEqual({ uid: 1000, gid: 2000 });
    expect(spec.process.env).toContain("HOME=/");
  });

  it("withUser resolves names and keeps an existing HOME", () => {
    const db = { passwd: "app:x:1001:1002::/home/app:/bin/sh\n", group: "app:x:1002:\nextra:x:3000:app\n" };
    const spec = applySpecOpts([withEnv(["HOME=/data"]), withUser("app", db)]);
    expect(spec.process.user).toEqual({ uid: 1001, gid: 1002, additionalGids: [3000] });
    expect(spec.process.env.filter((e) => e.startsWith("HOME="))).toEqual(["HOME=/data"]);
    expect(code(() => withUser("ghost", db))).toBe("InvalidArgument");
  });

  it("withTty sets terminal and TERM", () => {
    const spec = applySpecOpts([withTty(true)]);
    expect(spec.process.terminal).toBe(true);
    expect(spec.process.env).toContain("TERM=xterm");
    expect(applySpecOpts([withTty(false)]).process.env).not.toContain("TERM=xterm");
  });
});

describe("resource options", () => {
  it("withMemoryLimit sets swap equal to the limit (no swap beyond it)", () => {
    const spec = applySpecOpts([withMemoryLimit(64 * 1024 * 1024)]);
    expect(spec.linux.resources.memory).toEqual({ limit: 67108864, swap: 67108864 });
    expect(code(() => withMemoryLimit(1024))).toBe("InvalidArgument");
    expect(code(() => withMemoryLimit(1.5 * 1024 * 1024 * 1024 + 0.5))).toBe("InvalidArgument");
  });

  it("withCpuQuota turns cores into a quota per 100 ms period; shares stay beside it", () => {
    const spec = applySpecOpts([withCpuShares(512), withCpuQuota(0.5)]);
    expect(spec.linux.resources.cpu).toEqual({ shares: 512, quota: 50000, period: 100000 });
    expect(applySpecOpts([withCpuQuota(2)]).linux.resources.cpu).toEqual({ quota: 200000, period: 100000 });
    expect(code(() => withCpuQuota(0))).toBe("InvalidArgument");
    expect(code(() => withCpuQuota(Number.NaN))).toBe("InvalidArgument");
    expect(code(() => withCpuShares(1))).toBe("InvalidArgument");
  });

  it("withPidsLimit", () => {
    expect(applySpecOpts([withPidsLimit(100)]).linux.resources.pids).toEqual({ limit: 100 });
    expect(code(() => withPidsLimit(0))).toBe("InvalidArgument");
  });

  it("cgroupsPathFor and withCgroupsPath", () => {
    expect(cgroupsPathFor("abc123")).toBe("/berth/abc123");
    expect(cgroupsPathFor("abc123", "tests")).toBe("/tests/abc123");
    expect(code(() => cgroupsPathFor("../etc"))).toBe("InvalidArgument");
    expect(applySpecOpts([withCgroupsPath("/berth/x")]).linux.cgroupsPath).toBe("/berth/x");
    expect(code(() => withCgroupsPath("berth/x"))).toBe("InvalidArgument");
    expect(code(() => withCgroupsPath("/berth/../x"))).toBe("InvalidArgument");
  });
});

describe("filesystem options", () => {
  it("withRootfs and withReadonlyRootfs", () => {
    const spec = applySpecOpts([withRootfs("/var/lib/berth/c/rootfs"), withReadonlyRootfs(true)]);
    expect(spec.root).toEqual({ path: "/var/lib/berth/c/rootfs", readonly: true });
  });

  it("withMounts appends, and replaces a mount on the same destination", () => {
    const spec = applySpecOpts([
      withMounts([
        { destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "ro"] },
        { destination: "/dev/shm/", type: "tmpfs", source: "tmpfs", options: ["size=1m"] },
      ]),
    ]);
    expect(spec.mounts.filter((m) => m.destination === "/dev/shm")).toEqual([
      { destination: "/dev/shm", type: "tmpfs", source: "tmpfs", options: ["size=1m"] },
    ]);
    expect(spec.mounts.at(-2)).toMatchObject({ destination: "/data", source: "/srv/data" });
    expect(code(() => withMounts([{ destination: "rel", type: "bind", source: "/x" }]))).toBe(
      "InvalidArgument",
    );
    expect(code(() => withMounts([{ destination: "/a/../etc", type: "bind", source: "/x" }]))).toBe(
      "InvalidArgument",
    );
    expect(code(() => withMounts([{ destination: "/", type: "bind", source: "/x" }]))).toBe(
      "InvalidArgument",
    );
  });

  it("withEtcFiles bind-mounts the generated files it is given", () => {
    const spec = applySpecOpts([withEtcFiles({ hosts: "/run/c/hosts", resolvConf: "/run/c/resolv.conf" })]);
    const etc = spec.mounts.filter((m) => m.destination.startsWith("/etc/"));
    expect(etc).toEqual([
      { destination: "/etc/hosts", type: "bind", source: "/run/c/hosts", options: ["rbind", "rprivate"] },
      {
        destination: "/etc/resolv.conf",
        type: "bind",
        source: "/run/c/resolv.conf",
        options: ["rbind", "rprivate"],
      },
    ]);
    expect(code(() => withEtcFiles({ hostname: "hostname" }))).toBe("InvalidArgument");
  });

  it("withShmSize replaces the size of /dev/shm", () => {
    const shm = applySpecOpts([withShmSize(1 << 20)]).mounts.find((m) => m.destination === "/dev/shm")!;
    expect(shm.options).toContain("size=1048576");
    expect(shm.options!.filter((o) => o.startsWith("size="))).toHaveLength(1);
    expect(code(() => withShmSize(0))).toBe("InvalidArgument");
  });
});

describe("namespace and security options", () => {
  it("withHostname validates the name", () => {
    expect(applySpecOpts([withHostname("web-1.shop")]).hostname).toBe("web-1.shop");
    expect(code(() => withHostname("-bad"))).toBe("InvalidArgument");
    expect(code(() => withHostname("a".repeat(65)))).toBe("InvalidArgument");
    expect(code(() => withHostname("has space"))).toBe("InvalidArgument");
  });

  it("withNetworkNamespace: new, join a path, or share the host's", () => {
    const net = (spec: ReturnType<typeof applySpecOpts>) =>
      spec.linux.namespaces.filter((n) => n.type === "network");
    expect(net(applySpecOpts([withNetworkNamespace({ kind: "new" })]))).toEqual([{ type: "network" }]);
    expect(net(applySpecOpts([withNetworkNamespace({ kind: "path", path: "/run/netns/c1" })]))).toEqual([
      { type: "network", path: "/run/netns/c1" },
    ]);
    const host = applySpecOpts([withNetworkNamespace({ kind: "host" })]);
    expect(net(host)).toEqual([]);
    expect(host.linux.namespaces).toHaveLength(5);
    expect(host.mounts.find((m) => m.destination === "/sys")).toMatchObject({ type: "bind", source: "/sys" });
    expect(code(() => withNetworkNamespace({ kind: "path", path: "netns" }))).toBe("InvalidArgument");
  });

  it("withSeccomp sets a copy of the filter, or removes it", () => {
    const profile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }],
    };
    const spec = applySpecOpts([withSeccomp(profile)]);
    expect(spec.linux.seccomp).toEqual(profile);
    expect(spec.linux.seccomp).not.toBe(profile);
    expect(applySpecOpts([withSeccomp(profile), withSeccomp(null)]).linux.seccomp).toBeUndefined();
  });
});
