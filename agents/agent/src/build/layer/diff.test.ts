import { spawnSync } from "node:child_process";
import { link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diffTar, isRuntimeArtifact } from "./diff.ts";
import { entryHeader } from "./tar-writer.ts";

let dir: string;
const isRoot = process.getuid?.() === 0;

async function tarOf(root: string, exclude?: (rel: string) => boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of diffTar(root, exclude ? { exclude } : {})) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** GNU tar's verbose listing of an archive: "type mode owner size name[ -> target]". */
function listing(tar: Buffer): string[] {
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

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-diff-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("diffTar (an upper directory → a layer tar)", () => {
  it("writes dirs, files, symlinks and hard links in name order", async () => {
    const up = path.join(dir, "upper");
    await mkdir(path.join(up, "etc", "app"), { recursive: true });
    await writeFile(path.join(up, "etc", "app", "conf"), "x=1\n", { mode: 0o640 });
    await link(path.join(up, "etc", "app", "conf"), path.join(up, "etc", "app", "conf.hard"));
    await symlink("app/conf", path.join(up, "etc", "conf"));
    await writeFile(path.join(up, "a"), "");
    const owner = `${process.getuid?.()}/${process.getgid?.()}`;
    expect(listing(await tarOf(up))).toEqual([
      `-rw-r--r-- ${owner} a`,
      `drwxr-xr-x ${owner} etc/`,
      `drwxr-xr-x ${owner} etc/app/`,
      `-rw-r----- ${owner} etc/app/conf`,
      `hrw-r----- ${owner} etc/app/conf.hard link to etc/app/conf`,
      `lrwxrwxrwx ${owner} etc/conf -> app/conf`,
    ]);
  });

  it("is the same bytes for the same tree, and uses pax headers for long names", async () => {
    const up = path.join(dir, "upper");
    const long = `${"d".repeat(90)}/${"f".repeat(90)}`;
    await mkdir(path.join(up, "d".repeat(90)), { recursive: true });
    await writeFile(path.join(up, long), "content");
    await utimes(path.join(up, long), 1000, 1000);
    const first = await tarOf(up);
    expect(first.equals(await tarOf(up))).toBe(true);
    expect(listing(first)).toContain(`-rw-r--r-- ${process.getuid?.()}/${process.getgid?.()} ${long}`);
  });

  it("leaves out excluded paths with everything below them", async () => {
    const up = path.join(dir, "upper");
    await mkdir(path.join(up, "proc", "sub"), { recursive: true });
    await mkdir(path.join(up, "etc"), { recursive: true });
    await writeFile(path.join(up, "etc", "hosts"), "");
    await writeFile(path.join(up, "etc", "motd"), "hi");
    const names = listing(await tarOf(up, isRuntimeArtifact)).map((l) => l.split(" ").pop());
    expect(names).toEqual(["etc/", "etc/motd"]);
  });

  it.skipIf(!isRoot)("turns overlay whiteouts and opaque directories into .wh. entries (root)", async () => {
    const up = path.join(dir, "upper");
    await mkdir(path.join(up, "gone-parent"), { recursive: true });
    await mkdir(path.join(up, "opaque"), { recursive: true });
    await writeFile(path.join(up, "opaque", "new"), "n");
    spawnSync("mknod", [path.join(up, "gone-parent", "deleted"), "c", "0", "0"]);
    spawnSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", path.join(up, "opaque")]);
    const names = listing(await tarOf(up)).map((l) => l.split(" ").pop());
    expect(names).toEqual([
      "gone-parent/",
      "gone-parent/.wh.deleted",
      "opaque/",
      "opaque/.wh..wh..opq",
      "opaque/new",
    ]);
  });
});

describe("entryHeader", () => {
  it("puts a pax record before names over 100 bytes and ids over 7 octal digits", () => {
    const header = entryHeader({
      name: "n".repeat(150),
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
  });
});
