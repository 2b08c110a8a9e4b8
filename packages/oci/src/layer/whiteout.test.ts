import { execFile } from "node:child_process";
import { lstat, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildTar, type FixtureEntry, listTree, makeSandbox, streamOf } from "./tar-fixture.ts";
import { unpackLayer } from "./unpack.ts";
import type { WhiteoutMode } from "./whiteout.ts";

type Sandbox = Awaited<ReturnType<typeof makeSandbox>>;
let box: Sandbox;

beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const unpack = (entries: FixtureEntry[], whiteouts: WhiteoutMode) =>
  unpackLayer(streamOf(buildTar(entries)), box.root, { whiteouts });

/** Lower-layer content for the flattening tests. */
async function lower(): Promise<void> {
  await mkdir(join(box.root, "d/sub"), { recursive: true });
  await writeFile(join(box.root, "gone"), "lower");
  await writeFile(join(box.root, "kept"), "lower");
  await writeFile(join(box.root, "d/x"), "lower");
  await writeFile(join(box.root, "d/sub/old"), "lower");
}

describe("whiteouts: apply (flattening)", () => {
  it(".wh.<name> deletes <name> of the lower layers, files and whole directories", async () => {
    await lower();
    await unpack(
      [
        { path: ".wh.gone", body: "" },
        { path: ".wh.d", body: "" },
      ],
      "apply",
    );
    expect(await listTree(box.root)).toEqual(["kept"]);
  });

  it(".wh..wh..opq empties the directory of lower content but keeps this layer's", async () => {
    await lower();
    await unpack(
      [
        { path: "d/new", body: "upper" },
        { path: "d/.wh..wh..opq", body: "" },
        { path: "d/sub/newer", body: "upper" },
      ],
      "apply",
    );
    expect(await listTree(box.root)).toEqual(["d", "d/new", "d/sub", "d/sub/newer", "gone", "kept"]);
  });

  it("does not delete what the same layer wrote", async () => {
    await unpack(
      [
        { path: "a", body: "same layer" },
        { path: ".wh.a", body: "" },
      ],
      "apply",
    );
    expect(await readFile(join(box.root, "a"), "utf8")).toBe("same layer");
  });

  it("ignores a whiteout of something that does not exist", async () => {
    const result = await unpack([{ path: "no/such/.wh.thing", body: "" }], "apply");
    expect(result.entries).toBe(1);
    expect(await listTree(box.root)).toEqual([]);
  });
});

const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  process.stderr.write("SKIP whiteout.test.ts overlay mode: needs root (mknod, trusted.* xattrs)\n");
}

describe.skipIf(!isRoot)("whiteouts: overlay (needs root)", () => {
  it(".wh.<name> becomes a 0/0 character device and .wh..wh..opq the opaque xattr", async () => {
    await unpack(
      [
        { path: "etc/.wh.motd", body: "" },
        { path: "var/cache/.wh..wh..opq", body: "" },
        { path: "var/cache/fresh", body: "x" },
      ],
      "overlay",
    );
    const whiteout = await lstat(join(box.root, "etc/motd"));
    expect(whiteout.isCharacterDevice()).toBe(true);
    expect(whiteout.rdev).toBe(0);
    const { stdout } = await promisify(execFile)("getfattr", [
      "--only-values",
      "-n",
      "trusted.overlay.opaque",
      join(box.root, "var/cache"),
    ]);
    expect(stdout).toBe("y");
    expect(await listTree(box.root)).toEqual(["etc", "etc/motd", "var", "var/cache", "var/cache/fresh"]);
  });

  it("keeps what the same layer wrote; a later entry replaces the whiteout device", async () => {
    await unpack(
      [
        { path: "same", body: "layer" },
        { path: ".wh.same", body: "" },
        { path: ".wh.later", body: "" },
        { path: "later", body: "wins" },
      ],
      "overlay",
    );
    expect(await readFile(join(box.root, "same"), "utf8")).toBe("layer");
    expect(await readFile(join(box.root, "later"), "utf8")).toBe("wins");
  });

  it("replaces existing content with the whiteout device", async () => {
    await mkdir(join(box.root, "d/dir"), { recursive: true });
    await unpack([{ path: "d/.wh.dir", body: "" }], "overlay");
    expect((await lstat(join(box.root, "d/dir"))).isCharacterDevice()).toBe(true);
  });
});
