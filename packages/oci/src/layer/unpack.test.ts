import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, chown, link, lstat, mkdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { create } from "tar";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildTar, type FixtureEntry, listTree, makeSandbox, streamOf } from "./tar-fixture.ts";
import { unpackLayer } from "./unpack.ts";

type Sandbox = Awaited<ReturnType<typeof makeSandbox>>;
let box: Sandbox;
const isRoot = process.getuid?.() === 0;
if (!isRoot) process.stderr.write("SKIP unpack.test.ts xattr test and owner checks: needs root\n");

beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const unpack = (entries: FixtureEntry[]) =>
  unpackLayer(streamOf(buildTar(entries)), box.root, { whiteouts: "apply" });

describe("unpackLayer", () => {
  it("returns the entry count, byte count and the sha256 of the raw tar as diffId", async () => {
    const tar = buildTar([
      { path: "bin", type: "Directory" },
      { path: "bin/sh", body: "#!/bin/true\n", mode: 0o755 },
      { path: "etc/hostname", body: "berth\n" },
    ]);
    const result = await unpackLayer(streamOf(tar), box.root, { whiteouts: "apply" });
    expect(result).toEqual({ entries: 3, bytes: tar.length, diffId: sha256(tar) });
    expect(await listTree(box.root)).toEqual(["bin", "bin/sh", "etc", "etc/hostname"]);
    expect(await readFile(join(box.root, "etc/hostname"), "utf8")).toBe("berth\n");
  });

  it("detects gzip by magic bytes; the diffId stays the digest of the uncompressed tar", async () => {
    const tar = buildTar([{ path: "hello.txt", body: "hello ".repeat(1000) }]);
    const result = await unpackLayer(streamOf(gzipSync(tar)), box.root, { whiteouts: "apply" });
    expect(result.diffId).toBe(sha256(tar));
    expect(result.bytes).toBe(tar.length);
    expect(await readFile(join(box.root, "hello.txt"), "utf8")).toBe("hello ".repeat(1000));
  });

  it("counts trailing padding after the end-of-archive marker in the diffId", async () => {
    const tar = Buffer.concat([buildTar([{ path: "f", body: "x" }]), Buffer.alloc(8192)]);
    const result = await unpackLayer(streamOf(tar), box.root, { whiteouts: "apply" });
    expect(result.diffId).toBe(sha256(tar));
  });

  it.skipIf(!isRoot)("gives a root-owned file root's group under an existing setgid directory", async () => {
    // The unpacker skips fchown for a file already ours only in a root it found empty.
    await mkdir(join(box.root, "shared"), { recursive: true });
    await chown(join(box.root, "shared"), 0, 4321);
    await chmod(join(box.root, "shared"), 0o2775);
    await unpack([{ path: "shared/file", body: "x", uid: 0, gid: 0 }]);
    const file = await lstat(join(box.root, "shared/file"));
    expect([file.uid, file.gid]).toEqual([0, 0]);
  });

  it("preserves modes, mtimes and (as root) owners", async () => {
    const mtime = new Date("2020-05-06T07:08:09Z");
    await unpack([
      { path: "d", type: "Directory", mode: 0o750, mtime, uid: 1000, gid: 1001 },
      { path: "d/suid", body: "x", mode: 0o4755, mtime, uid: 1234, gid: 5678 },
      { path: "d/link", type: "SymbolicLink", linkpath: "suid", mtime, uid: 42, gid: 43 },
    ]);
    const dir = await lstat(join(box.root, "d"));
    const file = await lstat(join(box.root, "d/suid"));
    const link = await lstat(join(box.root, "d/link"));
    expect(dir.mode & 0o7777).toBe(0o750);
    expect(file.mode & 0o7777).toBe(0o4755);
    expect(file.mtime.getTime()).toBe(mtime.getTime());
    expect(dir.mtime.getTime()).toBe(mtime.getTime());
    expect(link.mtime.getTime()).toBe(mtime.getTime());
    if (isRoot) {
      expect([dir.uid, dir.gid, file.uid, file.gid, link.uid, link.gid]).toEqual([
        1000, 1001, 1234, 5678, 42, 43,
      ]);
    }
  });

  it("gives every file its exact mode, whether set at creation or by a chmod after", async () => {
    const umask = process.umask(0o027); // strips bits from 0o644 and 0o755: those need the chmod
    try {
      const modes: Record<string, number> = {
        plain: 0o644,
        exec: 0o755,
        private: 0o600,
        readonly: 0o400, // created read-only, written through the open descriptor
        none: 0o000,
        group: 0o664,
        setuid: 0o4755,
        setgid: 0o2750,
        sticky: 0o1777,
      };
      const big = Buffer.alloc(3 * 1024 * 1024, 7); // written in batches
      await unpack([
        ...Object.entries(modes).map(([path, mode]) => ({ path, body: "x", mode, uid: 0, gid: 0 })),
        { path: "owned", body: "x", mode: 0o640, uid: 1234, gid: 5678 },
        { path: "big", body: big, mode: 0o640 },
      ]);
      for (const [path, mode] of Object.entries({ ...modes, owned: 0o640, big: 0o640 })) {
        expect([path, (await lstat(join(box.root, path))).mode & 0o7777]).toEqual([path, mode]);
      }
      expect((await readFile(join(box.root, "big"))).equals(big)).toBe(true);
      expect(await readFile(join(box.root, "readonly"), "utf8")).toBe("x");
    } finally {
      process.umask(umask);
    }
  });

  it.skipIf(!isRoot)("sets PAX xattrs (as root) and refuses trusted.* ones", async () => {
    await unpack([{ path: "f", body: "x", xattrs: { "user.berth": "yes", "user.bin": "a=b" } }]);
    const { stdout } = await promisify(execFile)("getfattr", [
      "--only-values",
      "-n",
      "user.bin",
      join(box.root, "f"),
    ]);
    expect(stdout).toBe("a=b");
    const err = await unpack([{ path: "g", body: "x", xattrs: { "trusted.overlay.opaque": "y" } }]).catch(
      (e) => e,
    );
    expect(err.code).toBe("InvalidArgument");
    expect(err.message).toContain("trusted.overlay.opaque");
    expect(await listTree(box.root)).toEqual(["f"]);
  });

  it("applies a read-only directory's mode only after writing its children", async () => {
    await unpack([
      { path: "ro", type: "Directory", mode: 0o555 },
      { path: "ro/f", body: "x" },
    ]);
    expect((await lstat(join(box.root, "ro"))).mode & 0o7777).toBe(0o555);
    expect(await readFile(join(box.root, "ro/f"), "utf8")).toBe("x");
  });

  it("reads GNU tar's own archives (GNU long names and long link names, hardlinks)", async () => {
    const src = join(box.parent, "src");
    const long = `${"g".repeat(110)}/${"h".repeat(110)}`;
    await mkdir(join(src, long), { recursive: true });
    await writeFile(join(src, long, "file"), "gnu");
    await link(join(src, long, "file"), join(src, "hard"));
    await symlink(`${long}/file`, join(src, "soft"));
    const { stdout } = await promisify(execFile)("tar", ["--format=gnu", "-C", src, "-cf", "-", "."], {
      encoding: "buffer",
      maxBuffer: 16 * 1024 * 1024,
    });
    const dest = join(box.parent, "out");
    const result = await unpackLayer(streamOf(stdout), dest, { whiteouts: "apply" });
    expect(result.diffId).toBe(sha256(stdout));
    expect(await listTree(dest)).toEqual(await listTree(src));
    const [a, b] = await Promise.all([lstat(join(dest, long, "file")), lstat(join(dest, "hard"))]);
    expect(a.ino).toBe(b.ino);
    expect(await readlink(join(dest, "soft"))).toBe(`${long}/file`);
  });

  it("keeps absolute symlinks, which resolve inside the image root", async () => {
    await unpack([{ path: "bin/sh", type: "SymbolicLink", linkpath: "/bin/busybox" }]);
    expect(await readlink(join(box.root, "bin/sh"))).toBe("/bin/busybox");
  });

  it("makes hardlinks to earlier entries of the same layer", async () => {
    await unpack([
      { path: "a", body: "shared" },
      { path: "sub/b", type: "Link", linkpath: "a" },
    ]);
    const [a, b] = await Promise.all([lstat(join(box.root, "a")), lstat(join(box.root, "sub/b"))]);
    expect(b.ino).toBe(a.ino);
  });

  it("replaces lower content: a file by a directory and a directory by a file", async () => {
    await mkdir(join(box.root, "was-dir/child"), { recursive: true });
    await writeFile(join(box.root, "was-file"), "old");
    await unpack([
      { path: "was-dir", body: "now a file" },
      { path: "was-file", type: "Directory" },
      { path: "was-file/inside", body: "now a dir" },
    ]);
    expect(await readFile(join(box.root, "was-dir"), "utf8")).toBe("now a file");
    expect(await readFile(join(box.root, "was-file/inside"), "utf8")).toBe("now a dir");
  });

  it("replaces lower content by a symlink, a hardlink and a fifo, a directory with its contents too", async () => {
    await mkdir(join(box.root, "dir-to-link/child"), { recursive: true });
    await writeFile(join(box.root, "file-to-hardlink"), "old");
    await symlink("/elsewhere", join(box.root, "link-to-fifo"));
    await unpack([
      { path: "target", body: "new" },
      { path: "dir-to-link", type: "SymbolicLink", linkpath: "target" },
      { path: "file-to-hardlink", type: "Link", linkpath: "target" },
      { path: "link-to-fifo", type: "FIFO", mode: 0o600 },
    ]);
    expect(await readlink(join(box.root, "dir-to-link"))).toBe("target");
    const [target, hard] = await Promise.all([
      lstat(join(box.root, "target")),
      lstat(join(box.root, "file-to-hardlink")),
    ]);
    expect(hard.ino).toBe(target.ino);
    expect((await lstat(join(box.root, "link-to-fifo"))).isFIFO()).toBe(true);
  });

  it("refuses an entry whose parent is a file (no directory entry replaced it)", async () => {
    await mkdir(box.root);
    await writeFile(join(box.root, "file"), "old");
    const err = await unpack([{ path: "file/inside", body: "x" }]).catch((e) => e);
    expect(err.code).toBe("InvalidArgument");
    expect(err.message).toContain('"file/inside"');
  });

  it("reads long names (PAX) and an archive written by node-tar from a real directory", async () => {
    const src = join(box.parent, "src");
    const long = `${"n".repeat(120)}/${"m".repeat(120)}`;
    await mkdir(join(src, long), { recursive: true });
    await writeFile(join(src, long, "file.txt"), "deep");
    await writeFile(join(src, "top.txt"), "top");
    await symlink("top.txt", join(src, "top-link"));
    const tar = await streamToBuffer(create({ cwd: src, portable: true }, ["."]));
    const dest = join(box.parent, "out");
    const result = await unpackLayer(streamOf(tar), dest, { whiteouts: "apply" });
    expect(result.diffId).toBe(sha256(tar));
    expect(await readFile(join(dest, long, "file.txt"), "utf8")).toBe("deep");
    expect(await readlink(join(dest, "top-link"))).toBe("top.txt");
    expect(await listTree(dest)).toEqual(await listTree(src));
  });
});

async function streamToBuffer(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
