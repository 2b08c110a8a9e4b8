import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { describeRoot } from "../../testing/root.ts";
import { selectSources } from "../context/sources.ts";
import { copyInto } from "./copy.ts";

// COPY of a context tree into a step's root (a plain directory here): files, modes, owners and
// mtimes, links (a dangling one too), and a destination reached through a symlink of the root,
// which must stay inside it. chown to root needs root.

let work: string;
let context: string;
let root: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "berth-copy-"));
  context = path.join(work, "context");
  root = path.join(work, "root");
  await mkdir(path.join(context, "app", "lib", "deep"), { recursive: true });
  await writeFile(path.join(context, "app", "run.sh"), "#!/bin/sh\n");
  await chmod(path.join(context, "app", "run.sh"), 0o755);
  await writeFile(path.join(context, "app", "lib", "deep", "data.txt"), "data");
  await utimes(path.join(context, "app", "lib", "deep", "data.txt"), 1_600_000_000, 1_600_000_000);
  await symlink("deep/data.txt", path.join(context, "app", "lib", "link"));
  await symlink("../../nowhere", path.join(context, "app", "lib", "dangling"));
  await utimes(path.join(context, "app", "lib"), 1_500_000_000, 1_500_000_000);
  await mkdir(path.join(root, "srv"), { recursive: true });
  // The image's /data is a symlink to /srv: what COPY writes to /data lands in the root's /srv.
  await symlink("/srv", path.join(root, "data"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const copy = async (dest: string, owner: { uid: number; gid: number } | null = null) =>
  copyInto({
    root,
    selected: await selectSources({ root: context, ignore: null, followLinks: false }, ["app"]),
    dest,
    workdir: "/",
    owner,
    keepOwners: false,
    sourceCount: 1,
  });

describeRoot("COPY into a step's root", () => {
  it("copies a tree with its modes, owners, mtimes (directories' too) and links, a dangling link too", async () => {
    await copy("/opt/app/", { uid: 1000, gid: 1000 });
    const at = (rel: string) => path.join(root, "opt", "app", rel);
    expect(await readFile(at("lib/deep/data.txt"), "utf8")).toBe("data");
    const script = await lstat(at("run.sh"));
    expect([script.mode & 0o7777, script.uid, script.gid]).toEqual([0o755, 1000, 1000]);
    expect((await lstat(at("lib/deep/data.txt"))).mtimeMs).toBe(1_600_000_000_000);
    expect((await lstat(at("lib/deep"))).uid).toBe(1000);
    // A directory keeps its own mtime, though its children were added after it.
    expect((await lstat(at("lib"))).mtimeMs).toBe(1_500_000_000_000);
    expect(await readlink(at("lib/link"))).toBe("deep/data.txt");
    expect(await readlink(at("lib/dangling"))).toBe("../../nowhere");
  });

  it("resolves the destination inside the root, through the image's own symlinks", async () => {
    await copy("/data/");
    expect(await readFile(path.join(root, "srv", "lib", "deep", "data.txt"), "utf8")).toBe("data");
    expect((await lstat(path.join(root, "srv", "run.sh"))).uid).toBe(0);
    // The symlink itself is untouched.
    expect(await readlink(path.join(root, "data"))).toBe("/srv");
  });

  it("replaces a file in the way of a directory, and refuses a file over a directory", async () => {
    await mkdir(path.join(root, "opt", "app"), { recursive: true });
    await writeFile(path.join(root, "opt", "app", "lib"), "a file where the tree has a directory");
    await copy("/opt/app/");
    expect((await lstat(path.join(root, "opt", "app", "lib"))).isDirectory()).toBe(true);
    await rm(path.join(root, "opt"), { recursive: true });
    await mkdir(path.join(root, "opt", "app", "run.sh"), { recursive: true });
    await expect(copy("/opt/app/")).rejects.toThrow(
      /cannot copy run\.sh over the directory \/opt\/app\/run\.sh/,
    );
  });
});
