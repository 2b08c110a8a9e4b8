import { spawnSync } from "node:child_process";
import { chmod, link, mkdir, mkdtemp, rm, symlink, truncate, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ByteSource } from "./byte-source.ts";
import { layerTar, measureLayerTar, parseGetfattr } from "./layer-tar.ts";
import { readTar, type TarHeader } from "./tar-reader.ts";
import { entryHeader } from "./tar-writer.ts";
import { unpackLayer } from "./unpack.ts";

// The one layer-tar writer: what push, save and build write from a directory in overlay form.

let dir: string;
const isRoot = process.getuid?.() === 0;
if (!isRoot)
  process.stderr.write("SKIP layer-tar.test.ts whiteout, opaque, device and xattr cases: need root\n");

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-layer-tar-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(chunk);
  return Buffer.concat(parts);
}

async function entries(tar: Buffer): Promise<TarHeader[]> {
  const source = new ByteSource(Readable.from([tar]), tar.length);
  const result: TarHeader[] = [];
  for await (const h of readTar(source)) {
    result.push(h);
    if (h.type === "file") await source.skip(h.size);
  }
  return result;
}

/** GNU tar's listing: "type+mode uid/gid name[ -> target]". */
function gnuListing(tar: Buffer): string[] {
  const result = spawnSync("tar", ["--list", "--verbose", "--numeric-owner", "--file", "-"], { input: tar });
  if (result.status !== 0) throw new Error(`tar --list failed: ${result.stderr}`);
  return result.stdout
    .toString()
    .trim()
    .split("\n")
    .map((line) => {
      const f = line.split(/\s+/);
      return [f[0], f[1], f.slice(5).join(" ")].join(" ");
    });
}

async function makeTree(root: string): Promise<string> {
  await mkdir(path.join(root, "bin"), { recursive: true });
  await mkdir(path.join(root, "etc", "deep"), { recursive: true });
  await writeFile(path.join(root, "bin", "tool"), "#!/bin/sh\necho tool\n");
  await chmod(path.join(root, "bin", "tool"), 0o755);
  await link(path.join(root, "bin", "tool"), path.join(root, "bin", "tool2"));
  await symlink("tool", path.join(root, "bin", "sh"));
  await writeFile(path.join(root, "etc", "deep", `${"n".repeat(120)}.conf`), "long name\n");
  await writeFile(path.join(root, "etc", "big"), Buffer.alloc(3 * 1024 * 1024 + 7, 1));
  await writeFile(path.join(root, "B-upper"), "");
  for (const f of ["bin/tool", "etc/big"]) await utimes(path.join(root, f), 1_600_000_000.9, 1_600_000_000.9);
  return root;
}

describe("layerTar", { timeout: 20_000 }, () => {
  it("writes a tree reproducibly: bytewise name order, hard links to the first name, long names, sizes, whole-second mtimes", async () => {
    const root = await makeTree(path.join(dir, "tree"));
    const first = await collect(layerTar(root));
    expect((await collect(layerTar(root))).equals(first)).toBe(true);
    const got = await entries(first);
    expect(got.map((e) => e.path)).toEqual([
      "B-upper",
      "bin/",
      "bin/sh",
      "bin/tool",
      "bin/tool2",
      "etc/",
      "etc/big",
      "etc/deep/",
      `etc/deep/${"n".repeat(120)}.conf`,
    ]);
    expect(got.find((e) => e.path === "bin/sh")).toMatchObject({ type: "symlink", linkpath: "tool" });
    expect(got.find((e) => e.path === "bin/tool")).toMatchObject({ type: "file", mode: 0o755, size: 20 });
    expect(got.find((e) => e.path === "bin/tool")?.mtime.getTime()).toBe(1_600_000_000_000);
    expect(got.find((e) => e.path === "bin/tool2")).toMatchObject({ type: "hardlink", linkpath: "bin/tool" });
    expect(got.find((e) => e.path === "etc/big")?.size).toBe(3 * 1024 * 1024 + 7);
    // GNU tar reads the same members.
    const owner = `${process.getuid?.()}/${process.getgid?.()}`;
    expect(gnuListing(first)).toContain(`hrwxr-xr-x ${owner} bin/tool2 link to bin/tool`);
    expect(gnuListing(first).map((l) => l.split(" ")[2])).toEqual(got.map((e) => e.path));
  });

  it("unpacks (Berth's checked unpacker) to the tree it was made from, with the digest measureLayerTar gives", async () => {
    const root = await makeTree(path.join(dir, "tree"));
    const tar = await collect(layerTar(root));
    const result = await unpackLayer(Readable.from([tar]), path.join(dir, "out"), { whiteouts: "overlay" });
    expect(await measureLayerTar(root)).toEqual({ digest: result.diffId, size: tar.length });
    expect((await collect(layerTar(path.join(dir, "out")))).equals(tar)).toBe(true);
  });

  it("refuses a name that is not UTF-8 with its path's bytes (a build step may make one)", async () => {
    const root = path.join(dir, "upper");
    await mkdir(path.join(root, "etc"), { recursive: true });
    await writeFile(Buffer.from(`${root}/etc/caf\xe9`, "latin1"), "x");
    await expect(collect(layerTar(root))).rejects.toMatchObject({
      code: "InvalidArgument",
      message: expect.stringMatching(/^file name "etc\/caf\uFFFD" is not UTF-8 \(bytes 6574632f636166e9\)/),
    });
  });

  it("reads synchronously but lets the event loop turn (a timer, Ctrl-C) within a big file", async () => {
    const root = path.join(dir, "big");
    await mkdir(root);
    await writeFile(path.join(root, "sparse"), "");
    await truncate(path.join(root, "sparse"), 160 * 1024 * 1024); // a hole: read back as zeros, fast
    let fired = false;
    const timer = setTimeout(() => {
      fired = true;
    }, 0);
    // No getfattr (a child process would turn the loop): only the reads and the hash.
    const firedBeforeEnd = await measureLayerTar(root, { xattrs: new Map() }).then(() => fired);
    clearTimeout(timer);
    expect(firedBeforeEnd).toBe(true);
  });

  it("leaves out excluded paths with all below them, and counts the bytes of the files written", async () => {
    const root = path.join(dir, "upper");
    await mkdir(path.join(root, "proc", "sub"), { recursive: true });
    await mkdir(path.join(root, "etc"), { recursive: true });
    await writeFile(path.join(root, "etc", "hosts"), "127.0.0.1 x\n");
    await writeFile(path.join(root, "etc", "motd"), "hi");
    const counter = { fileBytes: 0 };
    const exclude = (rel: string) => rel.startsWith("proc") || rel === "etc/hosts";
    const got = await entries(await collect(layerTar(root, { exclude, counter })));
    expect(got.map((e) => e.path)).toEqual(["etc/", "etc/motd"]);
    expect(counter.fileBytes).toBe(2);
  });

  it.skipIf(!isRoot)(
    "turns whiteout devices and opaque directories (the root too) into .wh. entries",
    async () => {
      const root = path.join(dir, "upper");
      await mkdir(path.join(root, "gone-parent"), { recursive: true });
      await mkdir(path.join(root, "opaque"), { recursive: true });
      await writeFile(path.join(root, "opaque", "new"), "n");
      spawnSync("mknod", [path.join(root, "gone-parent", "deleted"), "c", "0", "0"]);
      spawnSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", path.join(root, "opaque")]);
      spawnSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", root]);
      const got = await entries(await collect(layerTar(root)));
      expect(got.map((e) => e.path)).toEqual([
        ".wh..wh..opq",
        "gone-parent/",
        "gone-parent/.wh.deleted",
        "opaque/",
        "opaque/.wh..wh..opq",
        "opaque/new",
      ]);
      const marker = got.find((e) => e.path === "gone-parent/.wh.deleted")!;
      expect([marker.type, marker.mode, marker.uid, marker.gid, marker.mtime.getTime()]).toEqual([
        "file",
        0o644,
        0,
        0,
        0,
      ]);
      // overlay's own markers are not carried as xattrs
      expect(got.find((e) => e.path === "opaque/")?.xattrs).toEqual({});
    },
  );

  it.skipIf(!isRoot)("keeps an image's xattrs (security.capability, user.*) as PAX records", async () => {
    const root = path.join(dir, "caps");
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, "ping"), "elf");
    spawnSync("setfattr", ["-n", "user.origin", "-v", "berth", path.join(root, "ping")]);
    const [ping] = await entries(await collect(layerTar(root)));
    expect(ping?.xattrs["user.origin"]?.toString()).toBe("berth");
  });

  it("tars symlinks with their own xattrs, not their targets', a dangling one too", async () => {
    const root = path.join(dir, "links");
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, "target"), "data");
    expect(
      spawnSync("setfattr", ["-n", "user.origin", "-v", "berth", path.join(root, "target")]).status,
    ).toBe(0);
    await symlink("target", path.join(root, "link"));
    await symlink("../gone/nowhere", path.join(root, "dangling"));
    const got = await entries(await collect(layerTar(root)));
    expect(got.map((e) => [e.path, e.type, e.linkpath, Object.keys(e.xattrs)])).toEqual([
      ["dangling", "symlink", "../gone/nowhere", []],
      ["link", "symlink", "target", []],
      ["target", "file", "", ["user.origin"]],
    ]);
  });

  it.skipIf(!isRoot)(
    "includes a device a build step made, or refuses it (what the store holds never has one)",
    async () => {
      const root = path.join(dir, "dev");
      await mkdir(root, { recursive: true });
      spawnSync("mknod", [path.join(root, "null"), "c", "1", "3"]);
      const [device] = await entries(await collect(layerTar(root)));
      expect(device).toMatchObject({ path: "null", type: "char", devmajor: 1, devminor: 3 });
      await expect(collect(layerTar(root, { devices: "refuse" }))).rejects.toMatchObject({
        code: "InvalidArgument",
      });
    },
  );

  it("parses getfattr's dump, escaped names included", () => {
    const parsed = parseGetfattr(
      [
        "# file: /l/etc",
        "trusted.overlay.opaque=0x79",
        "",
        "# file: /l/bin/with\\040space\\\\x",
        "security.capability=0x0100000200200000",
        "",
      ].join("\n"),
    );
    expect(parsed.get("/l/etc")?.get("trusted.overlay.opaque")?.toString()).toBe("y");
    expect(parsed.get("/l/bin/with space\\x")?.get("security.capability")?.toString("hex")).toBe(
      "0100000200200000",
    );
  });
});

describe("entryHeader", () => {
  it("puts a PAX record before names over 100 bytes, non-ASCII names and ids over 7 octal digits", () => {
    const header = entryHeader({
      path: "n".repeat(150),
      type: "file",
      mode: 0o644,
      uid: 5_000_000,
      gid: 0,
      mtime: 0,
      size: 0,
    });
    expect(header.length).toBe(512 * 3);
    expect(header.subarray(156, 157).toString()).toBe("x");
    expect(header.subarray(512, 1024).toString()).toContain(`path=${"n".repeat(150)}`);
    expect(header.subarray(512, 1024).toString()).toContain("uid=5000000");
    const accented = entryHeader({
      path: "café",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 0,
    });
    expect(accented.length).toBe(512 * 3);
  });

  it("round-trips through the tar reader: every type, device numbers, xattrs", async () => {
    const xattrs = new Map([["user.a", Buffer.from([0, 1, 2])]]);
    const tar = Buffer.concat([
      entryHeader({ path: "d/", type: "directory", size: 0, mode: 0o755, uid: 1, gid: 2, mtime: 3, xattrs }),
      entryHeader({ path: "d/f", type: "fifo", size: 0, mode: 0o600, uid: 0, gid: 0, mtime: 0 }),
      entryHeader({
        path: "d/c",
        type: "char",
        size: 0,
        mode: 0o600,
        uid: 0,
        gid: 0,
        mtime: 0,
        devmajor: 4,
        devminor: 64,
      }),
      entryHeader({
        path: "d/l",
        type: "symlink",
        size: 0,
        mode: 0o777,
        uid: 0,
        gid: 0,
        mtime: 0,
        linkpath: "x".repeat(200),
      }),
      Buffer.alloc(1024),
    ]);
    const got = await entries(tar);
    expect(got.map((e) => e.type)).toEqual(["directory", "fifo", "char", "symlink"]);
    expect(got[0]).toMatchObject({ uid: 1, gid: 2 });
    expect(got[0]?.xattrs["user.a"]).toEqual(Buffer.from([0, 1, 2]));
    expect(got[2]).toMatchObject({ devmajor: 4, devminor: 64 });
    expect(got[3]?.linkpath).toBe("x".repeat(200));
  });
});
