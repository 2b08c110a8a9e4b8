import { createHash } from "node:crypto";
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runProgram } from "../exec.ts";
import { makeTar } from "./__fixtures__/tar-writer.ts";
import { createImageStore, type ImageStore } from "./store.ts";

let work: string;
let store: ImageStore;
const never = { inUse: () => false };

async function makeTree(dir: string, stamp = 1_700_000_000): Promise<string> {
  await mkdir(path.join(dir, "bin"), { recursive: true });
  await mkdir(path.join(dir, "etc"), { recursive: true });
  await mkdir(path.join(dir, "dev"), { recursive: true });
  await writeFile(path.join(dir, "bin", "tool"), "#!/bin/sh\necho tool\n");
  await chmod(path.join(dir, "bin", "tool"), 0o755);
  await writeFile(path.join(dir, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  await writeFile(path.join(dir, "dev", "leftover"), "ignored: /dev is a tmpfs in containers");
  await symlink("/bin/tool", path.join(dir, "bin", "sh"));
  for (const file of ["bin/tool", "etc/passwd"]) await utimes(path.join(dir, file), stamp, stamp);
  return dir;
}

async function storeContents(): Promise<{ layers: string[]; records: string[]; temp: string[] }> {
  const list = (sub: string) => readdir(path.join(store.root, sub)).catch(() => [] as string[]);
  return { layers: await list("layers/sha256"), records: await list("by-digest"), temp: await list("tmp") };
}

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "berth-images-"));
  store = createImageStore(path.join(work, "state"));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("importing a directory", () => {
  it("stores one unpacked layer, an image record and its name", async () => {
    const record = await store.importDirectory(await makeTree(path.join(work, "tree")), { name: "tools" });
    expect(record.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(record.names).toEqual(["tools:latest"]);
    expect(record.layers).toHaveLength(1);
    expect(record.config).toEqual({
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cmd: ["/bin/sh"],
      entrypoint: null,
      workdir: null,
      user: null,
    });
    expect(record.size).toBe("#!/bin/sh\necho tool\n".length + "root:x:0:0:root:/root:/bin/sh\n".length);
    const resolved = await store.resolve("tools");
    expect(resolved.layerDirs).toEqual([
      path.join(store.root, "layers", "sha256", record.layers[0]!.slice(7)),
    ]);
    const layer = resolved.layerDirs[0]!;
    expect(await readFile(path.join(layer, "bin", "tool"), "utf8")).toBe("#!/bin/sh\necho tool\n");
    expect((await stat(path.join(layer, "bin", "tool"))).mode & 0o777).toBe(0o755);
    expect(await readdir(path.join(layer, "dev"))).toEqual([]);
    const names = JSON.parse(await readFile(path.join(store.root, "names.json"), "utf8"));
    expect(names).toEqual({ "tools:latest": record.digest });
    const onDisk = JSON.parse(
      await readFile(path.join(store.root, "by-digest", `${record.digest.slice(7)}.json`), "utf8"),
    );
    expect(onDisk).toMatchObject({ digest: record.digest, names: ["tools:latest"], layers: record.layers });
    expect((await storeContents()).temp).toEqual([]);
  });

  it("is deterministic: the layer digest ignores mtimes and where the tree is", async () => {
    const a = await store.importDirectory(await makeTree(path.join(work, "a"), 1_600_000_000), { name: "a" });
    const b = await store.importDirectory(await makeTree(path.join(work, "b"), 1_700_000_000), { name: "b" });
    expect(b.layers).toEqual(a.layers);
    expect(b.digest).toBe(a.digest);
    expect((await store.list()).map((r) => r.names)).toEqual([["a:latest", "b:latest"]]);
  });

  it("takes cmd, entrypoint, env, workdir and user; a different config is a different image on the same layer", async () => {
    const tree = await makeTree(path.join(work, "tree"));
    const plain = await store.importDirectory(tree, { name: "plain" });
    const app = await store.importDirectory(tree, {
      name: "app:v1",
      cmd: ["serve"],
      entrypoint: ["/bin/tool"],
      env: { MODE: "prod", PATH: "/bin" },
      workdir: "/srv",
      user: "nobody",
    });
    expect(app.digest).not.toBe(plain.digest);
    expect(app.layers).toEqual(plain.layers);
    expect(app.config).toEqual({
      env: ["PATH=/bin", "MODE=prod"],
      cmd: ["serve"],
      entrypoint: ["/bin/tool"],
      workdir: "/srv",
      user: "nobody",
    });
    expect((await storeContents()).layers).toHaveLength(1);
  });

  it("refuses a missing directory and a bad name before doing anything", async () => {
    await expect(store.importDirectory(path.join(work, "nope"), { name: "x" })).rejects.toMatchObject({
      code: "NotFound",
    });
    const tree = await makeTree(path.join(work, "tree"));
    await expect(store.importDirectory(tree, { name: "Bad Name" })).rejects.toMatchObject({
      code: "InvalidArgument",
    });
  });

  it("refuses a file name that is not UTF-8, naming its bytes, and stores nothing", async () => {
    // Kept, Latin-1 "café" would be found by save, push and builds under other bytes (Node writes
    // string names as UTF-8).
    const tree = await makeTree(path.join(work, "tree"));
    await writeFile(Buffer.from(`${tree}/etc/caf\xe9`, "latin1"), "x");
    const err = await store.importDirectory(tree, { name: "latin" }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "InvalidArgument",
      message: expect.stringMatching(/"\.\/etc\/caf\uFFFD" is not UTF-8 \(bytes 2e2f6574632f636166e9\)/),
    });
    expect(await storeContents()).toEqual({ layers: [], records: [], temp: [] });
  });

  it("keeps a UTF-8 name longer than a tar header holds, which GNU tar cuts in a character", async () => {
    const tree = await makeTree(path.join(work, "tree"));
    const long = "é".repeat(60); // 120 bytes: the header's 100 end inside the 50th é
    await writeFile(path.join(tree, "etc", long), "x");
    const record = await store.importDirectory(tree, { name: "long" });
    const [layer] = (await storeContents()).layers;
    expect(record.layers).toHaveLength(1);
    expect(await readdir(path.join(store.root, "layers", "sha256", layer!, "etc"))).toContain(long);
  });

  it("keeps both names when two imports race (the lock serialises writers)", async () => {
    const tree = await makeTree(path.join(work, "tree"));
    await Promise.all(["one", "two", "three"].map((name) => store.importDirectory(tree, { name })));
    const [record] = await store.list();
    expect(record!.names).toEqual(["one:latest", "three:latest", "two:latest"]);
  });
});

describe("importing a tarball", () => {
  it("hashes the uncompressed stream, so .tar and .tar.gz give the same layer", async () => {
    const tree = await makeTree(path.join(work, "tree"));
    const tarFile = path.join(work, "root.tar");
    await runProgram("tar", ["-cf", tarFile, "-C", tree, "."]);
    const tarBytes = await readFile(tarFile);
    await writeFile(path.join(work, "root.tar.gz"), gzipSync(tarBytes));
    const plain = await store.importTarball(tarFile, { name: "plain" });
    const gz = await store.importTarball(path.join(work, "root.tar.gz"), { name: "gz" });
    expect(plain.layers).toEqual([`sha256:${createHash("sha256").update(tarBytes).digest("hex")}`]);
    expect(gz.layers).toEqual(plain.layers);
    const layer = (await store.resolve("gz")).layerDirs[0]!;
    expect(await readFile(path.join(layer, "etc", "passwd"), "utf8")).toContain("root:x:0:0");
  });

  it("refuses other compressions and non-archives", async () => {
    await writeFile(path.join(work, "x.tar.xz"), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2]));
    await expect(store.importTarball(path.join(work, "x.tar.xz"), { name: "x" })).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    await writeFile(path.join(work, "junk.tar"), "hello, this is not tar".repeat(100));
    await expect(store.importTarball(path.join(work, "junk.tar"), { name: "x" })).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    await writeFile(path.join(work, "junk.tar.gz"), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    await expect(store.importTarball(path.join(work, "junk.tar.gz"), { name: "x" })).rejects.toMatchObject({
      code: "InvalidArgument",
    });
  });
});

describe("hostile tarballs are refused, naming the entry, and leave nothing behind", () => {
  async function expectRefused(file: string, entry: RegExp): Promise<void> {
    const err = await store.importTarball(file, { name: "evil" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "InvalidArgument", message: expect.stringMatching(entry) });
    expect(await storeContents()).toEqual({ layers: [], records: [], temp: [] });
    await expect(store.resolve("evil")).rejects.toMatchObject({ code: "NotFound" });
  }

  it("an absolute path (made by tar -P)", async () => {
    const victim = path.join(work, "victim.txt");
    await writeFile(victim, "x");
    await runProgram("tar", ["-P", "-cf", path.join(work, "abs.tar"), victim]);
    await expectRefused(path.join(work, "abs.tar"), /absolute path/);
  });

  it("a ../ escape (made by tar -P)", async () => {
    await mkdir(path.join(work, "inner"));
    await writeFile(path.join(work, "escape.txt"), "x");
    await runProgram("tar", [
      "-P",
      "-cf",
      path.join(work, "dotdot.tar"),
      "-C",
      path.join(work, "inner"),
      "../escape.txt",
    ]);
    await expectRefused(path.join(work, "dotdot.tar"), /"\.\.\/escape\.txt"/);
  });

  it("a symlink to /etc and then a file through it", async () => {
    const file = path.join(work, "through.tar.gz");
    await writeFile(
      file,
      gzipSync(
        makeTar([
          { name: "etc", type: "2", linkname: "/etc" },
          { name: "etc/berth-test-pwned", content: "owned" },
        ]),
      ),
    );
    await expectRefused(file, /"etc\/berth-test-pwned": goes through the symlink "etc"/);
    await expect(stat("/etc/berth-test-pwned")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a relative symlink escaping the root (made by tar)", async () => {
    const tree = path.join(work, "linktree");
    await mkdir(tree);
    await symlink("../../../../../etc", path.join(tree, "up"));
    await runProgram("tar", ["-cf", path.join(work, "up.tar"), "-C", tree, "."]);
    await expectRefused(
      path.join(work, "up.tar"),
      /"\.\/up": symlink to "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc" escapes/,
    );
  });

  it("a device file", async () => {
    const file = path.join(work, "dev.tar");
    await writeFile(file, makeTar([{ name: "./disk", type: "4", devmajor: 8, devminor: 0 }]));
    await expectRefused(file, /"\.\/disk": device file/);
  });
});

describe("resolve, tag, list, remove", () => {
  let digest: string;

  beforeEach(async () => {
    digest = (await store.importDirectory(await makeTree(path.join(work, "tree")), { name: "busybox" }))
      .digest;
  });

  it("resolves a name with or without :latest, a digest, and a unique prefix of 12+", async () => {
    const hex = digest.slice(7);
    for (const ref of [
      "busybox",
      "busybox:latest",
      digest,
      hex,
      hex.slice(0, 12),
      `sha256:${hex.slice(0, 12)}`,
    ]) {
      expect((await store.resolve(ref)).digest, ref).toBe(digest);
    }
    await expect(store.resolve("busybox:1.0")).rejects.toMatchObject({ code: "NotFound" });
    await expect(store.resolve(hex.slice(0, 11))).rejects.toMatchObject({ code: "NotFound" });
    await expect(store.resolve("sha256:abc")).rejects.toMatchObject({ code: "InvalidArgument" });
  });

  it("tags, and moving a name takes it from the image that had it", async () => {
    expect((await store.tag("busybox", "mirror/busybox:1.36")).names).toEqual([
      "busybox:latest",
      "mirror/busybox:1.36",
    ]);
    const other = await store.importDirectory(await makeTree(path.join(work, "tree2")), {
      name: "other",
      cmd: ["x"],
    });
    await store.tag(other.digest, "busybox");
    expect((await store.inspect(digest)).names).toEqual(["mirror/busybox:1.36"]);
    expect((await store.resolve("busybox")).digest).toBe(other.digest);
    await expect(store.tag("ghost", "x")).rejects.toMatchObject({ code: "NotFound" });
  });

  it("removing one of several names only untags", async () => {
    await store.tag("busybox", "bb");
    expect(await store.remove("bb", never)).toEqual({ untagged: ["bb:latest"], deleted: null });
    expect((await store.inspect("busybox")).names).toEqual(["busybox:latest"]);
  });

  it("refuses to delete an image a container uses, and changes nothing", async () => {
    const inUse = { inUse: (d: string) => d === digest };
    await expect(store.remove("busybox", inUse)).rejects.toMatchObject({ code: "FailedPrecondition" });
    await expect(store.remove(digest, inUse)).rejects.toMatchObject({ code: "FailedPrecondition" });
    expect((await store.resolve("busybox")).digest).toBe(digest);
  });

  it("deletes the image and layers no other image shares", async () => {
    const other = await store.importDirectory(await makeTree(path.join(work, "tree2")), {
      name: "other",
      cmd: ["x"],
    });
    expect(await store.remove("busybox", never)).toEqual({ untagged: ["busybox:latest"], deleted: digest });
    await expect(store.resolve("busybox")).rejects.toMatchObject({ code: "NotFound" });
    const layer = (await store.resolve("other")).layerDirs[0]!;
    expect((await stat(layer)).isDirectory()).toBe(true);
    await store.remove(other.digest, never);
    expect(await storeContents()).toEqual({ layers: [], records: [], temp: [] });
    expect(await store.list()).toEqual([]);
  });
});
