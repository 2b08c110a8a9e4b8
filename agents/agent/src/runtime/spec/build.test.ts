import { describe, expect, it } from "vitest";
import type { ResolvedImage } from "../../images/types.ts";
import { contractConfig } from "../contract/helpers.ts";
import type { ContainerConfig } from "../types.ts";
import { type BuildSpecInput, buildSpec, resolveCommand } from "./build.ts";
import { DEFAULT_PATH } from "./defaults.ts";
import { parseProcLimits } from "./rlimits.ts";

const image: ResolvedImage = {
  digest: `sha256:${"a".repeat(64)}`,
  names: ["app:latest"],
  layerDirs: ["/var/lib/berth/images/layers/sha256/aaa"],
  config: {
    env: ["PATH=/usr/bin:/bin", "MODE=image"],
    cmd: ["serve", "--port", "80"],
    entrypoint: ["/bin/app"],
    workdir: "/srv",
    user: "app",
  },
};

function config(overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return contractConfig("app", {
    name: "web",
    network: "bridge",
    command: undefined,
    labels: {},
    ...overrides,
  });
}

const input = (overrides: Partial<BuildSpecInput> = {}): BuildSpecInput => ({
  id: "0123456789abcdef0123",
  config: config(),
  image,
  rootfs: "/var/lib/berth/containers/0123/rootfs",
  netns: { kind: "path", path: "/run/netns/berth-0123" },
  cgroupsPath: "/berth/0123456789abcdef0123",
  seccomp: null,
  mounts: [],
  hostRlimits: parseProcLimits("Max open files            20000                20000                files\n"),
  userDb: { passwd: "app:x:100:101::/home/app:/bin/sh\n", group: "app:x:101:\n" },
  ...overrides,
});

const noCmd = { ...image, config: { ...image.config, entrypoint: null, cmd: null } };

describe("resolveCommand (Docker's entrypoint and cmd rules)", () => {
  it("runs the image's entrypoint with the image's cmd", () => {
    expect(resolveCommand(config(), image)).toEqual(["/bin/app", "serve", "--port", "80"]);
  });

  it("a container command replaces the image's cmd and keeps its entrypoint", () => {
    expect(resolveCommand(config({ command: ["migrate"] }), image)).toEqual(["/bin/app", "migrate"]);
  });

  it("a container entrypoint drops the image's cmd", () => {
    expect(resolveCommand(config({ entrypoint: ["/bin/sh"] }), image)).toEqual(["/bin/sh"]);
    expect(resolveCommand(config({ entrypoint: ["/bin/sh"], command: ["-c", "id"] }), image)).toEqual([
      "/bin/sh",
      "-c",
      "id",
    ]);
  });

  it("an empty entrypoint clears the image's and leaves the command alone", () => {
    expect(resolveCommand(config({ entrypoint: [], command: ["/bin/true"] }), image)).toEqual(["/bin/true"]);
  });

  it("an image without an entrypoint runs its cmd", () => {
    const sh = { ...image, config: { ...image.config, entrypoint: null, cmd: ["/bin/sh"] } };
    expect(resolveCommand(config(), sh)).toEqual(["/bin/sh"]);
  });

  it("nothing to run is an InvalidArgument", () => {
    expect(() => resolveCommand(config(), noCmd)).toThrow(
      expect.objectContaining({ code: "InvalidArgument" }),
    );
    expect(() => resolveCommand(config({ entrypoint: [] }), image)).toThrow(
      expect.objectContaining({ code: "InvalidArgument" }),
    );
  });
});

describe("buildSpec", () => {
  it("composes the image, the container and the host into one spec", async () => {
    const spec = await buildSpec(input());
    expect(spec.process.args).toEqual(["/bin/app", "serve", "--port", "80"]);
    expect(spec.process.env).toEqual(["PATH=/usr/bin:/bin", "MODE=image", "HOME=/home/app"]);
    expect(spec.process.user).toEqual({ uid: 100, gid: 101 });
    expect(spec.process.cwd).toBe("/srv");
    expect(spec.hostname).toBe("0123456789ab");
    expect(spec.root).toEqual({ path: "/var/lib/berth/containers/0123/rootfs", readonly: false });
    expect(spec.linux.namespaces).toContainEqual({ type: "network", path: "/run/netns/berth-0123" });
    expect(spec.linux.cgroupsPath).toBe("/berth/0123456789abcdef0123");
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.process.rlimits).toEqual([{ type: "RLIMIT_NOFILE", soft: 1024, hard: 20000 }]);
    expect(spec.linux.resources.memory).toBeUndefined();
  });

  it("applies the container's settings over the image's", async () => {
    const spec = await buildSpec(
      input({
        config: config({
          command: ["once"],
          env: { MODE: "prod" },
          workdir: "/tmp",
          user: "0:0",
          hostname: "web-1",
          tty: true,
          readOnlyRootfs: true,
          shmSizeBytes: 1 << 20,
          resources: { memoryBytes: 128 << 20, cpus: 0.5, cpuShares: 512, pidsLimit: 64 },
        }),
        etcFiles: { hosts: "/run/berth/c/hosts" },
        mounts: [
          {
            destination: "/data",
            type: "bind",
            source: "/var/lib/berth/volumes/d/_data",
            options: ["rbind"],
          },
        ],
        seccomp: { defaultAction: "SCMP_ACT_ALLOW" },
        netns: { kind: "new" },
      }),
    );
    expect(spec.process.args).toEqual(["/bin/app", "once"]);
    expect(spec.process.env).toEqual(["PATH=/usr/bin:/bin", "MODE=prod", "HOME=/", "TERM=xterm"]);
    expect(spec.process.user).toEqual({ uid: 0, gid: 0 });
    expect(spec.process.cwd).toBe("/tmp");
    expect(spec.process.terminal).toBe(true);
    expect(spec.hostname).toBe("web-1");
    expect(spec.root.readonly).toBe(true);
    expect(spec.linux.resources).toMatchObject({
      memory: { limit: 128 << 20, swap: 128 << 20 },
      cpu: { quota: 50000, period: 100000, shares: 512 },
      pids: { limit: 64 },
    });
    expect(spec.mounts.find((m) => m.destination === "/dev/shm")!.options).toContain("size=1048576");
    expect(spec.mounts.map((m) => m.destination)).toEqual(expect.arrayContaining(["/data", "/etc/hosts"]));
    expect(spec.linux.seccomp).toEqual({ defaultAction: "SCMP_ACT_ALLOW" });
    expect(spec.linux.namespaces).toContainEqual({ type: "network" });
  });

  it("defaults PATH and the working directory when the image sets neither", async () => {
    const bare = {
      ...image,
      config: { env: [], cmd: ["/bin/sh"], entrypoint: null, workdir: null, user: null },
    };
    const spec = await buildSpec(input({ image: bare }));
    expect(spec.process.env).toEqual([`PATH=${DEFAULT_PATH}`, "HOME=/"]);
    expect(spec.process.cwd).toBe("/");
    expect(spec.process.user).toEqual({ uid: 0, gid: 0 });
  });

  it("refuses a container with nothing to run, and a user the image does not know", async () => {
    await expect(buildSpec(input({ image: noCmd }))).rejects.toMatchObject({ code: "InvalidArgument" });
    await expect(buildSpec(input({ config: config({ user: "ghost" }) }))).rejects.toMatchObject({
      code: "InvalidArgument",
    });
  });

  it("serialises to JSON runc can read (no undefined holes, numbers exact)", async () => {
    const spec = await buildSpec(input({ config: config({ resources: { memoryBytes: 64 << 20 } }) }));
    const parsed = JSON.parse(JSON.stringify(spec));
    expect(parsed.linux.resources.memory).toEqual({ limit: 67108864, swap: 67108864 });
    expect(parsed.ociVersion).toMatch(/^1\.0\./);
  });
});
