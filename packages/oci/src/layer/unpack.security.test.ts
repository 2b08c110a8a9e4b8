import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, readFile, readlink, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OciError } from "../errors.ts";
import { buildTar, type FixtureEntry, listTree, makeSandbox, streamOf } from "./tar-fixture.ts";
import { type UnpackOptions, unpackLayer } from "./unpack.ts";

type Sandbox = Awaited<ReturnType<typeof makeSandbox>>;
let box: Sandbox;

beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(async () => {
  await box.cleanup();
});

function unpack(entries: FixtureEntry[], options: Partial<UnpackOptions> = {}) {
  return unpackLayer(streamOf(buildTar(entries)), box.root, { whiteouts: "apply", ...options });
}

/** Expects InvalidArgument naming `entry`, and nothing changed outside the root. */
async function expectRefused(promise: Promise<unknown>, entry: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OciError);
  expect((err as OciError).code).toBe("InvalidArgument");
  expect((err as OciError).message).toContain(`"${entry}"`);
  expect(await box.outsideEntries()).toEqual(["canary", "root"]);
  expect(await box.canaryIntact()).toBe(true);
}

const unique = () => `berth-oci-test-${randomBytes(6).toString("hex")}`;

describe("unpackLayer refuses escapes", () => {
  it("refuses an absolute path", async () => {
    const name = unique();
    await expectRefused(unpack([{ path: `/tmp/${name}`, body: "x" }]), `/tmp/${name}`);
    expect(existsSync(`/tmp/${name}`)).toBe(false);
    expect(await listTree(box.root)).toEqual([]);
  });

  it("refuses '..' components", async () => {
    await expectRefused(unpack([{ path: "../canary", body: "pwned" }]), "../canary");
    await expectRefused(unpack([{ path: "a/../../canary", body: "pwned" }]), "a/../../canary");
    expect(await listTree(box.root)).toEqual([]);
  });

  it("refuses a file written through a symlink to /etc", async () => {
    const name = unique();
    await expectRefused(
      unpack([
        { path: "etc", type: "SymbolicLink", linkpath: "/etc" },
        { path: `etc/${name}`, body: "pwned" },
      ]),
      `etc/${name}`,
    );
    expect(existsSync(`/etc/${name}`)).toBe(false);
    expect(await readlink(join(box.root, "etc"))).toBe("/etc"); // legitimate inside an image root
    expect(await listTree(box.root)).toEqual(["etc"]);
  });

  it("refuses a symlink a -> ../../.. (and so never writes a/x)", async () => {
    await expectRefused(
      unpack([
        { path: "a", type: "SymbolicLink", linkpath: "../../.." },
        { path: "a/x", body: "pwned" },
      ]),
      "a",
    );
    expect(await listTree(box.root)).toEqual([]);
  });

  it("refuses a relative symlink that climbs out from a subdirectory", async () => {
    await expectRefused(
      unpack([{ path: "d/e/link", type: "SymbolicLink", linkpath: "../../../canary" }]),
      "d/e/link",
    );
    expect(await listTree(box.root)).toEqual([]);
  });

  it("refuses an entry through an in-root symlink to a directory", async () => {
    await expectRefused(
      unpack([
        { path: "real", type: "Directory" },
        { path: "alias", type: "SymbolicLink", linkpath: "real" },
        { path: "alias/x", body: "x" },
      ]),
      "alias/x",
    );
    expect(await listTree(box.root)).toEqual(["alias", "real"]);
  });

  it("replaces an existing symlink instead of writing through it", async () => {
    await mkdir(box.root);
    await symlink(box.canary, join(box.root, "victim"));
    await unpack([{ path: "victim", body: "mine" }]);
    expect(await box.canaryIntact()).toBe(true);
    expect((await lstat(join(box.root, "victim"))).isFile()).toBe(true);
    expect(await readFile(join(box.root, "victim"), "utf8")).toBe("mine");
  });

  it("refuses a hardlink to /etc/passwd", async () => {
    await expectRefused(unpack([{ path: "passwd", type: "Link", linkpath: "/etc/passwd" }]), "passwd");
    await expectRefused(unpack([{ path: "up", type: "Link", linkpath: "../canary" }]), "up");
    expect(await listTree(box.root)).toEqual([]);
  });

  it("refuses a hardlink to a path not yet extracted", async () => {
    await expectRefused(
      unpack([
        { path: "early", type: "Link", linkpath: "late" },
        { path: "late", body: "x" },
      ]),
      "early",
    );
    expect(await listTree(box.root)).toEqual([]);
  });

  it("refuses a hardlink whose target is reached through a symlink", async () => {
    await expectRefused(
      unpack([
        { path: "etc", type: "SymbolicLink", linkpath: "/etc" },
        { path: "passwd", type: "Link", linkpath: "etc/passwd" },
      ]),
      "passwd",
    );
    expect(await listTree(box.root)).toEqual(["etc"]);
  });

  it("refuses a hardlink to a directory", async () => {
    await expectRefused(
      unpack([
        { path: "d", type: "Directory" },
        { path: "l", type: "Link", linkpath: "d" },
      ]),
      "l",
    );
    expect(await listTree(box.root)).toEqual(["d"]);
  });

  it("refuses character and block devices", async () => {
    await expectRefused(unpack([{ path: "mem", type: "CharacterDevice", devmaj: 1, devmin: 1 }]), "mem");
    await expectRefused(unpack([{ path: "sda", type: "BlockDevice", devmaj: 8, devmin: 0 }]), "sda");
    expect(await listTree(box.root)).toEqual([]);
  });

  it("allows a FIFO", async () => {
    await unpack([{ path: "pipe", type: "FIFO", mode: 0o600 }]);
    expect((await lstat(join(box.root, "pipe"))).isFIFO()).toBe(true);
  });

  it("refuses an entry over maxEntrySize before writing any of it", async () => {
    await expectRefused(
      unpack(
        [
          { path: "small", body: "ok" },
          { path: "big", body: "0123456789abcdef" },
        ],
        { maxEntrySize: 10 },
      ),
      "big",
    );
    expect(await listTree(box.root)).toEqual(["small"]);
  });

  it("refuses a layer over maxTotalSize", async () => {
    const err = await unpack([{ path: "f", body: "x".repeat(4096) }], { maxTotalSize: 2048 }).catch((e) => e);
    expect(err).toBeInstanceOf(OciError);
    expect(err.code).toBe("InvalidArgument");
    expect(await box.outsideEntries()).toEqual(["canary", "root"]);
  });

  it("refuses more than maxEntries entries", async () => {
    await expectRefused(
      unpack(
        [
          { path: "a", body: "" },
          { path: "b", body: "" },
          { path: "c", body: "" },
        ],
        { maxEntries: 2 },
      ),
      "c",
    );
    expect(await listTree(box.root)).toEqual(["a", "b"]);
  });

  it("refuses over-long paths and path components", async () => {
    const longComponent = "x".repeat(256);
    await expectRefused(unpack([{ path: longComponent, body: "" }]), longComponent);
    const deep = Array.from({ length: 30 }, () => "d".repeat(40)).join("/");
    await expectRefused(unpack([{ path: deep, body: "" }], { maxPathLength: 1024 }), deep);
    expect(await listTree(box.root)).toEqual([]);
  });

  it("refuses a whiteout that would delete through a symlink", async () => {
    const err = await unpack([
      { path: "etc", type: "SymbolicLink", linkpath: "/etc" },
      { path: "etc/.wh.passwd", body: "" },
    ]).catch((e) => e);
    expect(err.code).toBe("InvalidArgument");
    expect(existsSync("/etc/passwd")).toBe(true);
  });

  it("refuses a whiteout named '..'", async () => {
    await mkdir(join(box.root, "d"), { recursive: true });
    await expectRefused(unpack([{ path: "d/.wh...", body: "" }]), "d/.wh...");
  });
});

describe("unpackLayer refuses malformed tar", () => {
  it("refuses a header with a bad checksum", async () => {
    const tar = buildTar([{ path: "f", body: "x" }]);
    tar[0] = "g".charCodeAt(0);
    const err = await unpackLayer(streamOf(tar), box.root, { whiteouts: "apply" }).catch((e) => e);
    expect(err.code).toBe("InvalidArgument");
    expect(err.message).toMatch(/checksum/);
  });

  it("refuses a truncated body", async () => {
    const tar = buildTar([{ path: "f", body: "x".repeat(2000) }]).subarray(0, 1024);
    const err = await unpackLayer(streamOf(tar), box.root, { whiteouts: "apply" }).catch((e) => e);
    expect(err.code).toBe("InvalidArgument");
    expect(err.message).toMatch(/truncated/);
  });

  it("refuses an unsupported entry type", async () => {
    const tar = buildTar([{ path: "f", body: "" }]);
    tar[156] = "S".charCodeAt(0); // GNU sparse
    let sum = 0;
    tar.fill(0x20, 148, 156);
    for (let i = 0; i < 512; i++) sum += tar[i]!;
    tar.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    const err = await unpackLayer(streamOf(tar), box.root, { whiteouts: "apply" }).catch((e) => e);
    expect(err.code).toBe("InvalidArgument");
    expect(err.message).toContain('"f"');
  });

  it("refuses zstd layers by magic bytes, saying so", async () => {
    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(100)]);
    const err = await unpackLayer(streamOf(zstd), box.root, { whiteouts: "apply" }).catch((e) => e);
    expect(err.code).toBe("InvalidArgument");
    expect(err.message).toMatch(/zstd/);
  });

  it("refuses corrupt gzip", async () => {
    const bad = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), randomBytes(200)]);
    const err = await unpackLayer(streamOf(bad), box.root, { whiteouts: "apply" }).catch((e) => e);
    expect(err.code).toBe("InvalidArgument");
  });
});
