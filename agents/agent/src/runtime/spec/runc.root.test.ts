import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, mkdir, mkdtemp, readdir, readFile, rm, rmdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ExecError, runProgram } from "../../exec.ts";
import { isMounted, mountRootfs, unmountRootfs } from "../../images/rootfs.ts";
import { createImageStore } from "../../images/store.ts";
import type { ResolvedImage } from "../../images/types.ts";
import { makeBusyboxRootfs } from "../../testing/busybox.ts";
import { describeRoot } from "../../testing/root.ts";
import { withTimeout } from "../../testing/wait.ts";
import { resolveMounts } from "../../volumes/mounts.ts";
import { createVolumeStore, type VolumeStore } from "../../volumes/store.ts";
import { contractConfig } from "../contract/helpers.ts";
import type { ContainerConfig } from "../types.ts";
import { buildSpec } from "./build.ts";
import { DEFAULT_CAPABILITIES } from "./defaults.ts";
import type { NetnsSpec } from "./linux.ts";
import { cgroupsPathFor } from "./resources.ts";
import { defaultSeccomp } from "./seccomp-gate.ts";
import type { OciSeccomp } from "./types.ts";

const RUNC = "/usr/sbin/runc";

function config(overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return contractConfig("busybox", { name: "spec-test", command: undefined, labels: {}, ...overrides });
}

interface Prepared {
  id: string;
  dir: string;
  rootfs: string;
  cgroupsPath: string;
}

describeRoot("OCI specs run by runc over an overlay rootfs", () => {
  let work: string;
  let runcRoot: string;
  let image: ResolvedImage;
  let volumes: VolumeStore;
  let seccomp: OciSeccomp;
  const made: Prepared[] = [];

  const runc = (args: string[], timeoutMs = 20_000) =>
    runProgram(RUNC, ["--root", runcRoot, ...args], { timeoutMs });

  /** Mount a rootfs for a new container and write its bundle's config.json. */
  async function prepare(
    cfg: ContainerConfig,
    options: { seccomp?: OciSeccomp | null; netns?: NetnsSpec } = {},
  ): Promise<Prepared> {
    const id = `berth-spec-${randomBytes(4).toString("hex")}`;
    const dir = path.join(work, "containers", id);
    const rootfs = await mountRootfs({ layerDirs: image.layerDirs, containerDir: dir });
    const prepared = { id, dir, rootfs, cgroupsPath: cgroupsPathFor(id, "berth-test") };
    made.push(prepared);
    const spec = await buildSpec({
      id,
      config: cfg,
      image,
      rootfs,
      netns: options.netns ?? { kind: "new" },
      cgroupsPath: prepared.cgroupsPath,
      seccomp: options.seccomp === undefined ? seccomp : options.seccomp,
      mounts: await resolveMounts(cfg.mounts, { allowHostBinds: true, volumes }),
    });
    await writeFile(path.join(dir, "config.json"), JSON.stringify(spec, null, 2));
    return prepared;
  }

  /** `runc run` in the foreground; resolves with stdout (stderr joins it via the shell). */
  async function run(cfg: ContainerConfig, options: Parameters<typeof prepare>[1] = {}) {
    const c = await prepare(cfg, options);
    const output = await runc(["run", "--bundle", c.dir, c.id]);
    return { ...c, output };
  }

  async function cleanup(c: Prepared): Promise<void> {
    await runc(["delete", "--force", c.id]).catch(() => {});
    await unmountRootfs(c.dir);
    await rm(c.dir, { recursive: true, force: true });
  }

  beforeAll(async () => {
    await access(RUNC).catch(() => {
      throw new Error(`${RUNC} is missing: apt-get install runc`);
    });
    work = await mkdtemp(path.join(os.tmpdir(), "berth-runc-"));
    runcRoot = path.join(work, "runc");
    await mkdir(runcRoot);
    const bb = await makeBusyboxRootfs(path.join(work, "busybox"));
    const store = createImageStore(path.join(work, "state"));
    await store.importDirectory(bb, { name: "busybox" });
    image = await store.resolve("busybox");
    volumes = createVolumeStore(path.join(work, "state"));
    seccomp = await defaultSeccomp(DEFAULT_CAPABILITIES);
  });

  afterAll(async () => {
    for (const c of made) await cleanup(c);
    if (work) await rm(work, { recursive: true, force: true });
    // runc removes each container's cgroup; the parent made for these tests goes too.
    for (const controller of await readdir("/sys/fs/cgroup").catch(() => [] as string[])) {
      await rmdir(path.join("/sys/fs/cgroup", controller, "berth-test")).catch(() => {});
    }
    await rmdir("/sys/fs/cgroup/berth-test").catch(() => {});
  });

  const sh = (script: string) => ({ command: ["/bin/sh", "-c", script] });

  it("runs a process without seccomp: output, uid and hostname are the container's", async () => {
    const { output } = await run(config({ ...sh("echo hello; id -u; hostname"), hostname: "spec-test" }), {
      seccomp: null,
    });
    expect(output).toBe("hello\n0\nspec-test\n");
  });

  it("runs as the image's nobody user, under Docker's default seccomp profile", async () => {
    const { output, id } = await run(
      config({ ...sh("echo hello; id -u; id -g; hostname; echo $HOME"), user: "nobody" }),
    );
    expect(output).toBe(`hello\n65534\n65534\n${id.slice(0, 12)}\n/nonexistent\n`);
  });

  it("is PID 1 in its own pid namespace with only loopback in its network namespace", async () => {
    const { output } = await run(config(sh("echo $$; ls /sys/class/net")));
    expect(output).toBe("1\nlo\n");
  });

  it("shares the host's network namespace with netns host (and binds the host's /sys read-only)", async () => {
    const hostLinks = (await readdir("/sys/class/net")).sort();
    const { output } = await run(config(sh("ls /sys/class/net; touch /sys/x 2>&1; echo rc=$?")), {
      netns: { kind: "host" },
    });
    expect(output).toBe(`${hostLinks.join("\n")}\ntouch: /sys/x: Read-only file system\nrc=1\n`);
  });

  it("writes land in the container's upper directory, never in the image layer", async () => {
    const c = await run(
      config(sh("echo data > /written; echo 'x:x:1:1::/:/bin/sh' >> /etc/passwd; cat /written")),
    );
    expect(c.output).toBe("data\n");
    expect(await readFile(path.join(c.dir, "upper", "written"), "utf8")).toBe("data\n");
    expect(await readFile(path.join(c.dir, "upper", "etc", "passwd"), "utf8")).toContain("x:x:1:1:");
    const layer = image.layerDirs[0]!;
    await expect(stat(path.join(layer, "written"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readFile(path.join(layer, "etc", "passwd"), "utf8")).not.toContain("x:x:1:1:");
  });

  it("refuses mount (EPERM) with the default caps and seccomp, and unshare too", async () => {
    const { output } = await run(
      config(
        sh(
          "mkdir -p /mnt; mount -t tmpfs none /mnt 2>&1; echo mount=$?; unshare -U true 2>&1; echo unshare=$?",
        ),
      ),
    );
    // busybox's words for EPERM
    expect(output).toMatch(/mount: permission denied \(are you root\?\)\nmount=[1-9]/);
    expect(output).toMatch(/unshare: unshare\(0x10000000\): Operation not permitted\nunshare=1/);
  });

  it("without seccomp, the dropped capabilities alone still refuse mount", async () => {
    const { output } = await run(config(sh("mkdir -p /mnt; mount -t tmpfs none /mnt 2>&1; echo mount=$?")), {
      seccomp: null,
    });
    expect(output).toMatch(/mount: permission denied \(are you root\?\)\nmount=[1-9]/);
  });

  it("keeps the root filesystem read-only when asked", async () => {
    const { output } = await run(config({ ...sh("touch /x 2>&1; echo rc=$?"), readOnlyRootfs: true }));
    expect(output).toMatch(/Read-only file system\nrc=1/);
  });

  it("gives the default file limit, clamped to the host's hard limit", async () => {
    const hostHard = (await readFile("/proc/self/limits", "utf8")).match(/Max open files\s+\S+\s+(\S+)/)![1]!;
    const { output } = await run(config(sh("ulimit -n; ulimit -Hn")));
    expect(output).toBe(`1024\n${Math.min(Number(hostHard), 524288)}\n`);
  });

  it("mounts a named volume: what the container writes is in the volume's directory", async () => {
    const mounts = [{ type: "volume" as const, source: "spec-test-data", target: "/data", readOnly: false }];
    const { output } = await run(config({ ...sh("echo kept > /data/file; echo ok"), mounts }));
    expect(output).toBe("ok\n");
    const volume = await volumes.inspect("spec-test-data");
    expect(await readFile(path.join(volume.mountpoint, "file"), "utf8")).toBe("kept\n");
  });

  it("applies memory, CPU and pids limits to the container's cgroup", async () => {
    const resources = { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 32 };
    const c = await prepare(config({ command: ["/bin/sleep", "60"], resources }));
    const created = spawn(RUNC, ["--root", runcRoot, "create", "--bundle", c.dir, c.id], { stdio: "ignore" });
    const code = await withTimeout(
      new Promise<number | null>((resolve) => created.on("exit", resolve)),
      20_000,
      "runc create to exit",
    );
    expect(code).toBe(0);
    await runc(["start", c.id]);
    const v2 = await access("/sys/fs/cgroup/cgroup.controllers").then(
      () => true,
      () => false,
    );
    const file = (controller: string, name: string) =>
      v2
        ? path.join("/sys/fs/cgroup", c.cgroupsPath, name)
        : path.join("/sys/fs/cgroup", controller, c.cgroupsPath, name);
    const read = async (controller: string, name: string) =>
      (await readFile(file(controller, name), "utf8")).trim();
    if (v2) {
      expect(await read("", "memory.max")).toBe(String(resources.memoryBytes));
      expect(await read("", "memory.swap.max")).toBe("0");
      expect(await read("", "cpu.max")).toBe("50000 100000");
    } else {
      expect(await read("memory", "memory.limit_in_bytes")).toBe(String(resources.memoryBytes));
      expect(await read("memory", "memory.memsw.limit_in_bytes")).toBe(String(resources.memoryBytes));
      expect(await read("cpu", "cpu.cfs_quota_us")).toBe("50000");
      expect(await read("cpu", "cpu.cfs_period_us")).toBe("100000");
    }
    expect(await read("pids", "pids.max")).toBe("32");
    expect(JSON.parse(await runc(["state", c.id])).status).toBe("running");
    await runc(["kill", c.id, "KILL"]);
    await runc(["delete", "--force", c.id]);
    await expect(stat(file("memory", v2 ? "memory.max" : "memory.limit_in_bytes"))).rejects.toBeTruthy();
  });

  it("unmounts idempotently and leaves the layer intact", async () => {
    const c = await prepare(config(sh("true")));
    expect(await isMounted(c.rootfs)).toBe(true);
    await unmountRootfs(c.dir);
    await unmountRootfs(c.dir);
    expect(await isMounted(c.rootfs)).toBe(false);
    expect((await stat(path.join(image.layerDirs[0]!, "bin", "busybox"))).isFile()).toBe(true);
  });

  it("reports a failing container as an ExecError with runc's exit code", async () => {
    const err = await run(config(sh("exit 3"))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).exitCode).toBe(3);
  });
});
