import { createReadStream, createWriteStream } from "node:fs";
import {
  chmod,
  link,
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
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { isBerthError } from "@berth/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runProgram } from "../../exec.ts";
import { createImageStore, type ImageStore } from "../store.ts";
import { layoutMembers, legacyMembers, type Member, sha256, tarOf } from "./__fixtures__/archive.ts";
import { entryName, type LoadEvent, loadImages } from "./load.ts";
import { saveImages } from "./save.ts";

let work: string;
let store: ImageStore;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "berth-layout-"));
  store = createImageStore(path.join(work, "state"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function makeTree(dir: string): Promise<string> {
  await mkdir(path.join(dir, "bin"), { recursive: true });
  await mkdir(path.join(dir, "etc", "deep"), { recursive: true });
  await writeFile(path.join(dir, "bin", "tool"), "#!/bin/sh\necho tool\n");
  await chmod(path.join(dir, "bin", "tool"), 0o755);
  await link(path.join(dir, "bin", "tool"), path.join(dir, "bin", "tool2"));
  await symlink("tool", path.join(dir, "bin", "sh"));
  await writeFile(path.join(dir, "etc", "deep", `${"n".repeat(120)}.conf`), "long name\n");
  await writeFile(path.join(dir, "etc", "big"), Buffer.alloc(3 * 1024 * 1024 + 7, 1));
  for (const f of ["bin/tool", "etc/big"]) await utimes(path.join(dir, f), 1_600_000_000, 1_600_000_000);
  return dir;
}

async function saveTo(file: string, refs: string[], s = store) {
  return saveImages(s, refs, createWriteStream(file));
}

async function storeContents(s: ImageStore) {
  const list = (sub: string) => readdir(path.join(s.root, sub)).catch(() => [] as string[]);
  return {
    layers: await list("layers/sha256"),
    records: await list("by-digest"),
    temp: await list("tmp"),
    leases: await list("leases"),
    images: (await s.list()).length,
  };
}

describe("save and load", { timeout: 30_000 }, () => {
  it("round trip: a loaded image has the same files, name and config, and saves to the same bytes", async () => {
    const tree = await makeTree(path.join(work, "tree"));
    await store.importDirectory(tree, {
      name: "tools:1",
      cmd: ["/bin/tool"],
      env: { A: "b" },
      workdir: "/etc",
    });
    const archive = path.join(work, "tools.tar");
    const saved = await saveTo(archive, ["tools:1"]);
    expect(saved).toEqual([{ name: "tools:1", manifest: expect.stringMatching(/^sha256:/) }]);

    const other = createImageStore(path.join(work, "other"));
    const loaded = await loadImages(other, createReadStream(archive));
    expect(loaded).toEqual([{ name: "tools:1", digest: saved[0]!.manifest }]);
    const original = await store.inspect("tools:1");
    const copy = await other.inspect("tools:1");
    expect(copy.config).toEqual(original.config);
    expect(copy.createdAt).toBe(original.createdAt);
    const layer = (await other.resolve("tools:1")).layerDirs[0]!;
    const big = await readFile(path.join(layer, "etc", "big"));
    expect(big.equals(await readFile(path.join(tree, "etc", "big")))).toBe(true);
    expect(await readFile(path.join(layer, "bin", "tool2"), "utf8")).toBe("#!/bin/sh\necho tool\n");

    const again = path.join(work, "again.tar");
    await saveTo(again, ["tools:1"], other);
    expect((await readFile(again)).equals(await readFile(archive))).toBe(true);

    // Loading the same archive again shares the layer and leaves nothing behind.
    const events: LoadEvent[] = [];
    await loadImages(other, createReadStream(archive), { onProgress: (e) => events.push(e) });
    expect(events.filter((e) => e.type === "layer")).toEqual([
      { type: "layer", id: expect.stringMatching(/^[0-9a-f]{12}$/), status: "Already exists" },
    ]);
    expect(await storeContents(other)).toMatchObject({
      layers: [copy.layers[0]!.slice(7)],
      temp: [],
      leases: [],
    });
  });

  it("reports the archive read and each layer loaded, with its bytes", async () => {
    const tree = await makeTree(path.join(work, "tree"));
    await store.importDirectory(tree, { name: "tools:1" });
    const archive = path.join(work, "tools.tar");
    await saveTo(archive, ["tools:1"]);
    const { size } = await stat(archive);
    const events: LoadEvent[] = [];
    await loadImages(createImageStore(path.join(work, "other")), createReadStream(archive), {
      size,
      onProgress: (e) => events.push(e),
    });
    const reading = events.filter((e) => e.type === "reading");
    expect(reading.length).toBeGreaterThan(1); // the archive is over 3 MB: a report per MiB
    expect(reading.at(-1)).toEqual({ type: "reading", current: size, total: size });
    const layers = events.filter((e) => e.type !== "reading");
    const id = (layers[0] as { id: string }).id;
    expect(layers[0]).toEqual({ type: "layer", id, status: "Loading layer" });
    expect(layers.at(-1)).toEqual({ type: "layer", id, status: "Loaded" });
    const progress = layers.filter((e) => e.type === "progress");
    expect(progress.at(-1)).toMatchObject({ id, current: progress.at(-1)?.total });
    // Every report comes after the archive is read, and counts only up.
    expect(events.indexOf(layers[0]!)).toBeGreaterThan(events.indexOf(reading.at(-1)!));
    const counts = progress.map((e) => e.current);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it("writes a layout other tools read: index names, one blob per shared layer, digests that match", async () => {
    const tree = await makeTree(path.join(work, "tree"));
    const a = await store.importDirectory(tree, { name: "a" });
    await store.importDirectory(tree, { name: "b", cmd: ["/bin/tool"] });
    const archive = path.join(work, "ab.tar");
    await saveTo(archive, ["a", "b:latest", a.digest]);
    const dir = path.join(work, "layout");
    await mkdir(dir);
    await runProgram("tar", ["-xf", archive, "-C", dir]);
    const index = JSON.parse(await readFile(path.join(dir, "index.json"), "utf8"));
    expect(index.manifests.map((m: { annotations?: Record<string, string> }) => m.annotations)).toEqual([
      {
        "org.opencontainers.image.ref.name": "a:latest",
        "io.containerd.image.name": "docker.io/library/a:latest",
      },
      {
        "org.opencontainers.image.ref.name": "b:latest",
        "io.containerd.image.name": "docker.io/library/b:latest",
      },
      undefined,
    ]);
    const blobs = await readdir(path.join(dir, "blobs", "sha256"));
    for (const hex of blobs) {
      expect(sha256(await readFile(path.join(dir, "blobs", "sha256", hex)))).toBe(`sha256:${hex}`);
    }
    // One layer, two configs, two manifests (a by name and by digest is one manifest).
    expect(blobs).toHaveLength(5);
    expect(JSON.parse(await readFile(path.join(dir, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
  });

  it("loads gzip archives; a bare tag (as skopeo writes) loads the image without a name", async () => {
    const layer = tarOf([{ name: "hello", data: "hi\n" }]);
    const archive = gzipSync(tarOf(layoutMembers({ layers: [layer], refName: "1" })));
    const loaded = await loadImages(store, Readable.from([archive]));
    expect(loaded).toEqual([{ name: null, digest: expect.stringMatching(/^sha256:/) }]);
    const image = await store.inspect(loaded[0]!.digest);
    expect(image.names).toEqual([]);
    expect(image.layers).toEqual([sha256(layer)]);
  });

  it("loads Docker's format from before Docker 25: every tag named, a symlinked duplicate layer shared", async () => {
    const base = tarOf([{ name: "hello", data: "hi\n" }]);
    const top = tarOf([
      { name: "etc/", type: "directory" },
      { name: "etc/motd", data: "legacy\n" },
    ]);
    const archive = tarOf(
      legacyMembers({ layers: [base, top, base], repoTags: ["legacy:1", "reg.local:5000/x/legacy:2"] }),
    );
    const loaded = await loadImages(store, Readable.from([archive]));
    expect(loaded.map((l) => l.name)).toEqual(["legacy:1", "reg.local:5000/x/legacy:2"]);
    expect(loaded[1]!.digest).toBe(loaded[0]!.digest);
    const image = await store.inspect("legacy:1");
    expect(image.layers).toEqual([sha256(base), sha256(top), sha256(base)]);
    expect(image.config.env).toContain("LEGACY=1");
    const { layerDirs } = await store.resolve("reg.local:5000/x/legacy:2");
    expect(await readFile(path.join(layerDirs[1]!, "etc", "motd"), "utf8")).toBe("legacy\n");
    expect(await storeContents(store)).toMatchObject({ layers: expect.any(Array), temp: [], leases: [] });
    expect((await storeContents(store)).layers).toHaveLength(2);
  });

  it("loads an untagged image of the old format without a name", async () => {
    const archive = tarOf(legacyMembers({ layers: [tarOf([{ name: "a", data: "a" }])], repoTags: null }));
    expect(await loadImages(store, Readable.from([archive]))).toEqual([
      { name: null, digest: expect.stringMatching(/^sha256:/) },
    ]);
  });

  it("names images from containerd's annotation or a name:tag ref.name", () => {
    expect(entryName({ "io.containerd.image.name": "docker.io/library/busybox:1" })).toBe("busybox:1");
    expect(entryName({ "org.opencontainers.image.ref.name": "reg.local:5000/app:2" })).toBe(
      "reg.local:5000/app:2",
    );
    expect(entryName({ "org.opencontainers.image.ref.name": "latest" })).toBeNull();
    expect(entryName(undefined)).toBeNull();
  });
});

const goodLayer = tarOf([{ name: "hello", data: "hi\n" }]);
const good = () => layoutMembers({ layers: [goodLayer], refName: "bad:1" });
const without = (members: Member[], pred: (m: Member) => boolean) => members.filter((m) => !pred(m));
const isLayerBlob = (m: Member) => m.name === `blobs/sha256/${sha256(goodLayer).slice(7)}`;

const HOSTILE: Array<{ name: string; archive: () => Buffer; error: RegExp }> = [
  {
    name: "a blob whose content does not match its name",
    archive: () =>
      tarOf(good().map((m) => (isLayerBlob(m) ? { ...m, data: tarOf([{ name: "evil", data: "x" }]) } : m))),
    error: /has the digest/,
  },
  {
    name: "a member outside the layout",
    archive: () => tarOf([...good(), { name: "../../etc/evil", data: "x" }]),
    error: /unexpected member "..\/..\/etc\/evil"/,
  },
  {
    name: "a symlink member",
    archive: () => tarOf([{ name: "blobs/sha256/", type: "symlink", linkpath: "/etc" }, ...good()]),
    error: /is a symlink/,
  },
  {
    name: "a missing layer blob",
    archive: () => tarOf(without(good(), isLayerBlob)),
    error: /layer sha256:[a-f0-9]{64} is missing/,
  },
  {
    name: "an index.json over the limit",
    archive: () =>
      tarOf([
        ...without(good(), (m) => m.name === "index.json"),
        { name: "index.json", data: " ".repeat(5 * 1024 * 1024) },
      ]),
    error: /index.json is \d+ bytes; the limit is/,
  },
  {
    name: "no oci-layout",
    archive: () => tarOf(without(good(), (m) => m.name === "oci-layout")),
    error: /oci-layout is missing/,
  },
  {
    name: "an old-format archive naming no image",
    archive: () =>
      tarOf([
        { name: `${"a".repeat(64)}/layer.tar`, data: goodLayer },
        { name: "manifest.json", data: "[]" },
      ]),
    error: /manifest.json names no image/,
  },
  {
    name: "an old-format layer that is not the one its config lists",
    archive: () => tarOf(legacyMembers({ layers: [goodLayer], diffIds: [sha256(Buffer.from("other"))] })),
    error: /layer "[a-f0-9]{64}\/layer.tar" is sha256:[a-f0-9]{64}, but [a-f0-9]{64}.json lists/,
  },
  {
    name: "an old-format layer symlink pointing elsewhere",
    archive: () =>
      tarOf([
        ...legacyMembers({ layers: [goodLayer] }),
        { name: `${"b".repeat(64)}/layer.tar`, type: "symlink", linkpath: "../../etc/passwd" },
      ]),
    error: /links to "..\/..\/etc\/passwd", not a layer/,
  },
  {
    name: "an old-format manifest.json naming a layer the archive lacks",
    archive: () =>
      tarOf(legacyMembers({ layers: [goodLayer] }).filter((m) => !m.name.endsWith("/layer.tar"))),
    error: /layer "[a-f0-9]{64}\/layer.tar" is missing from the archive/,
  },
  {
    name: "a layer that unpacks to another diff ID than its config says",
    archive: () =>
      tarOf(
        layoutMembers({ layers: [goodLayer], diffIds: [sha256(Buffer.from("other"))], refName: "bad:1" }),
      ),
    error: /unpacks to sha256:[a-f0-9]{64}, but the image config says/,
  },
  {
    name: "a bad layer among several unpacked at once",
    archive: () => {
      const many = tarOf(Array.from({ length: 200 }, (_, i) => ({ name: `f${i}`, data: "x" })));
      return tarOf(
        layoutMembers({
          layers: [goodLayer, many],
          diffIds: [sha256(Buffer.from("other")), sha256(many)],
          refName: "bad:1",
        }),
      );
    },
    error: /unpacks to sha256:[a-f0-9]{64}, but the image config says/,
  },
  {
    name: "a layer escaping its root",
    archive: () =>
      tarOf(layoutMembers({ layers: [tarOf([{ name: "../escape", data: "x" }])], refName: "bad:1" })),
    error: /escape|outside/,
  },
  {
    name: "garbage",
    archive: () => Buffer.from("this is not a tar archive at all, not even close".repeat(20)),
    error: /not an image archive: .*(checksum|bad number|truncated)/,
  },
  { name: "empty input", archive: () => Buffer.alloc(0), error: /empty/ },
];

describe("load refuses hostile archives and leaves the store as it was", { timeout: 15_000 }, () => {
  it.each(HOSTILE)("$name", async ({ archive, error }) => {
    const err = await loadImages(store, Readable.from([archive()])).catch((e: unknown) => e);
    expect(isBerthError(err) && err.code).toBe("InvalidArgument");
    expect((err as Error).message).toMatch(error);
    expect(await storeContents(store)).toMatchObject({
      layers: [],
      records: [],
      temp: [],
      leases: [],
      images: 0,
    });
  });
});
