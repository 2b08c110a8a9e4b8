import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { MountSpec } from "../runtime/types.ts";
import { resolveMounts, volumeNames } from "./mounts.ts";
import { createVolumeStore, type VolumeStore } from "./store.ts";

let work: string;
let volumes: VolumeStore;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "berth-volumes-"));
  volumes = createVolumeStore(path.join(work, "state"));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("volume store", () => {
  it("creates a volume with a data directory and metadata", async () => {
    const volume = await volumes.create("data", { labels: { stack: "shop" } });
    expect(volume).toMatchObject({
      name: "data",
      mountpoint: path.join(work, "state", "volumes", "data", "_data"),
      labels: { stack: "shop" },
    });
    expect((await stat(volume.mountpoint)).isDirectory()).toBe(true);
    expect(await volumes.inspect("data")).toEqual(volume);
    await expect(volumes.create("data")).rejects.toMatchObject({ code: "Conflict" });
  });

  it("validates names like Docker", async () => {
    for (const bad of ["a", "-x", ".x", "a/b", "../etc", "has space", "x".repeat(129)]) {
      await expect(volumes.create(bad), bad).rejects.toMatchObject({ code: "InvalidArgument" });
    }
    await expect(volumes.inspect("../../etc")).rejects.toMatchObject({ code: "InvalidArgument" });
    expect((await volumes.create("my_vol-1.2")).name).toBe("my_vol-1.2");
  });

  it("ensure creates once and then returns the same volume", async () => {
    const first = await volumes.ensure("cache");
    await writeFile(path.join(first.mountpoint, "kept"), "x");
    expect(await volumes.ensure("cache")).toEqual(first);
    expect(await readdir(first.mountpoint)).toEqual(["kept"]);
  });

  it("lists volumes by name", async () => {
    await volumes.create("zeta");
    await volumes.create("alpha");
    expect((await volumes.list()).map((v) => v.name)).toEqual(["alpha", "zeta"]);
  });

  it("refuses to remove a volume in use; removes it with its data otherwise", async () => {
    const volume = await volumes.create("db");
    await writeFile(path.join(volume.mountpoint, "table"), "rows");
    await expect(volumes.remove("db", { inUse: (name) => name === "db" })).rejects.toMatchObject({
      code: "FailedPrecondition",
    });
    expect(await readdir(volume.mountpoint)).toEqual(["table"]);
    await volumes.remove("db", { inUse: () => false });
    await expect(volumes.inspect("db")).rejects.toMatchObject({ code: "NotFound" });
    expect(await readdir(volumes.root)).toEqual([]);
    await expect(volumes.remove("db", { inUse: () => false })).rejects.toMatchObject({ code: "NotFound" });
  });
});

describe("resolveMounts", () => {
  const mount = (m: Partial<MountSpec> & Pick<MountSpec, "type" | "target">): MountSpec => ({
    source: "",
    readOnly: false,
    ...m,
  });

  it("resolves binds, volumes (created on first use) and tmpfs, parents first", async () => {
    const resolved = await resolveMounts(
      [
        mount({ type: "volume", source: "data", target: "/var/lib/app/data" }),
        mount({ type: "bind", source: work, target: "/host", readOnly: true }),
        mount({ type: "tmpfs", target: "/tmp/" }),
      ],
      { allowHostBinds: true, volumes },
    );
    expect(resolved).toEqual([
      { destination: "/host", type: "bind", source: work, options: ["rbind", "rprivate", "ro"] },
      {
        destination: "/tmp",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "nodev", "noexec", "mode=1777", "rw"],
      },
      {
        destination: "/var/lib/app/data",
        type: "bind",
        source: path.join(work, "state", "volumes", "data", "_data"),
        options: ["rbind", "rprivate", "rw"],
      },
    ]);
    expect((await volumes.inspect("data")).name).toBe("data");
  });

  it("refuses host binds when the agent forbids them, with a clear message", async () => {
    const err = await resolveMounts([mount({ type: "bind", source: "/etc", target: "/x" })], {
      allowHostBinds: false,
      volumes,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "PermissionDenied", message: expect.stringContaining("/etc") });
  });

  it("refuses relative and missing bind sources, bad targets and duplicate targets", async () => {
    const options = { allowHostBinds: true, volumes };
    const cases: MountSpec[][] = [
      [mount({ type: "bind", source: "relative", target: "/x" })],
      [mount({ type: "bind", source: path.join(work, "missing"), target: "/x" })],
      [mount({ type: "tmpfs", target: "relative" })],
      [mount({ type: "tmpfs", target: "/" })],
      [mount({ type: "tmpfs", target: "/a/../etc" })],
      [mount({ type: "volume", source: "../escape", target: "/x" })],
      [mount({ type: "tmpfs", target: "/x" }), mount({ type: "tmpfs", target: "/x/" })],
    ];
    for (const mounts of cases) {
      await expect(resolveMounts(mounts, options), JSON.stringify(mounts)).rejects.toMatchObject({
        code: "InvalidArgument",
      });
    }
  });

  it("volumeNames lists the named volumes a container uses", () => {
    expect(
      volumeNames([
        mount({ type: "volume", source: "a", target: "/a" }),
        mount({ type: "bind", source: "/b", target: "/b" }),
        mount({ type: "volume", source: "a", target: "/c" }),
      ]),
    ).toEqual(["a"]);
  });
});
