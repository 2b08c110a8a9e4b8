import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GarbageInput, planGarbage } from "./gc.ts";
import { createImageStore, type ImageStore } from "./store.ts";
import type { ImageRecord } from "./types.ts";

const L = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const D = (n: number) => `sha256:${"d".repeat(63)}${n}`;

function record(digest: string, layers: string[]): ImageRecord {
  const config = { env: [], cmd: null, entrypoint: null, workdir: null, user: null };
  return { digest, names: [], layers, config, createdAt: "2024-01-01T00:00:00.000Z", size: 0 };
}

function input(over: Partial<GarbageInput>): GarbageInput {
  return {
    records: [record(D(1), [L(1), L(2)]), record(D(2), [L(2), L(3)]), record(D(3), [L(4)])],
    names: { "a:1": D(1) },
    layerDirs: [L(1), L(2), L(3), L(4), L(5)],
    blobs: [],
    usedImages: new Set(),
    leasedImages: new Set(),
    leasedLayers: new Set(),
    leasedBlobs: new Set(),
    all: false,
    ...over,
  };
}

const digests = (plan: ReturnType<typeof planGarbage>) => plan.images.map((i) => i.digest);

describe("planGarbage", () => {
  it.each([
    {
      name: "untagged images go, then layers only they had, and stray layer directories",
      over: {},
      images: [D(2), D(3)],
      layers: [L(3), L(4), L(5)],
    },
    {
      name: "a container's image stays, and so do its layers",
      over: { usedImages: new Set([D(2)]) },
      images: [D(3)],
      layers: [L(4), L(5)],
    },
    {
      name: "a leased image stays",
      over: { leasedImages: new Set([D(3)]) },
      images: [D(2)],
      layers: [L(3), L(5)],
    },
    {
      name: "leased layers stay (a pull not yet recorded)",
      over: { leasedLayers: new Set([L(5), L(3)]) },
      images: [D(2), D(3)],
      layers: [L(4)],
    },
    {
      name: "-a: tagged images go too, unless used",
      over: { all: true, usedImages: new Set([D(3)]) },
      images: [D(1), D(2)],
      layers: [L(1), L(2), L(3), L(5)],
    },
    {
      name: "nothing to do",
      over: { names: { "a:1": D(1), "b:1": D(2), "c:1": D(3) }, layerDirs: [L(1), L(2), L(3), L(4)] },
      images: [],
      layers: [],
    },
  ])("$name", ({ over, images, layers }) => {
    const plan = planGarbage(input(over));
    expect(digests(plan)).toEqual(images);
    expect(plan.layers).toEqual(layers);
  });

  it("removes blobs no kept image names and no lease holds", () => {
    const withContent = (r: ImageRecord, blobs: string[]): ImageRecord => ({
      ...r,
      content: { mediaType: "m", size: 1, config: blobs[0]!, layerBlobs: blobs.slice(1) },
    });
    const B = (n: number) => `sha256:${"b".repeat(63)}${n}`;
    const plan = planGarbage(
      input({
        records: [
          withContent(record(D(1), [L(1)]), [B(1), B(2)]), // tagged: kept with its manifest, config, layer blob
          withContent(record(D(2), [L(2)]), [B(3), B(2)]), // untagged: goes, B(2) stays (D(1) names it)
        ],
        blobs: [D(1), D(2), B(1), B(2), B(3), B(4), B(5)],
        leasedBlobs: new Set([B(5)]),
      }),
    );
    expect(digests(plan)).toEqual([D(2)]);
    expect(plan.blobs).toEqual([B(3), B(4), D(2)].sort());
  });

  it("never removes a layer a kept image lists, whatever the input (exhaustive over small stores)", () => {
    for (let mask = 0; mask < 64; mask++) {
      const used = new Set([D(1), D(2), D(3)].filter((_, i) => mask & (1 << i)));
      const all = (mask & 8) !== 0;
      const names: Record<string, string> = mask & 16 ? { "a:1": D(1) } : {};
      const plan = planGarbage(input({ usedImages: used, all, names }));
      const gone = new Set(digests(plan));
      for (const d of used) expect(gone.has(d)).toBe(false);
      const kept = input({}).records.filter((r) => !gone.has(r.digest));
      for (const layer of kept.flatMap((r) => r.layers)) expect(plan.layers).not.toContain(layer);
      expect(plan.images.find((i) => i.digest === D(1))?.names ?? []).toEqual(
        gone.has(D(1)) ? Object.keys(names) : [],
      );
    }
  });
});

describe("store.prune", () => {
  let work: string;
  let store: ImageStore;

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-gc-"));
    store = createImageStore(path.join(work, "state"));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function tree(name: string, content: string): Promise<string> {
    const dir = path.join(work, name);
    await mkdir(path.join(dir, "etc"), { recursive: true });
    await writeFile(path.join(dir, "etc", "file"), content);
    return dir;
  }
  const layers = () => readdir(path.join(store.root, "layers", "sha256"));
  const none = async () => [] as string[];

  it("removes a dangling image and its layer, reports the bytes, keeps what a container uses", async () => {
    const old = await store.importDirectory(await tree("v1", "one"), { name: "app" });
    await store.importDirectory(await tree("v2", "two!"), { name: "app" }); // app names v2 now: v1 dangles
    const used = await store.importDirectory(await tree("v3", "three"), { name: "tmp" });
    await store.importDirectory(await tree("v4", "four"), { name: "tmp" }); // v3 dangles, a container uses it
    const usedImages = async () => [used.digest];

    const dry = await store.prune({ dryRun: true, usedImages: none });
    expect(dry.images.map((i) => i.digest).sort()).toEqual([old.digest, used.digest].sort());
    expect(dry.reclaimed).toBe(3 + 5);
    expect(await layers()).toHaveLength(4);

    const report = await store.prune({ usedImages });
    expect(report.images).toEqual([{ digest: old.digest, names: [] }]);
    expect(report.layers).toEqual([{ diffId: old.layers[0], size: 3 }]);
    expect(report.reclaimed).toBe(3);
    expect(await layers()).toHaveLength(3);
    await expect(store.inspect(old.digest)).rejects.toMatchObject({ code: "NotFound" });
    expect((await store.inspect(used.digest)).layers).toEqual(used.layers);
    expect((await store.prune({ usedImages })).images).toEqual([]);
    expect(await readdir(store.tempDir)).toEqual([]);
  });

  it("-a removes tagged images no container uses; a held image and held layers stay", async () => {
    const a = await store.importDirectory(await tree("a", "a"), { name: "a" });
    const b = await store.importDirectory(await tree("b", "bb"), { name: "b" });
    const c = await store.importDirectory(await tree("c", "ccc"), { name: "c" });
    await store.holdImages(["a"], async () => {
      await store.holdLayers([c.layers[0]!], async () => {
        const report = await store.prune({ all: true, usedImages: none });
        expect(report.images.map((i) => i.digest).sort()).toEqual([b.digest, c.digest].sort());
        expect(report.layers.map((l) => l.diffId)).toEqual([b.layers[0]]);
      });
    });
    expect((await layers()).sort()).toEqual([a.layers[0]!.slice(7), c.layers[0]!.slice(7)].sort());
    expect(await readdir(path.join(store.root, "leases"))).toEqual([]);
    // Without the holds the rest goes.
    const report = await store.prune({ all: true, usedImages: none });
    expect(report.images.map((i) => i.names)).toEqual([["a:latest"]]);
    expect(await layers()).toEqual([]);
  });

  it("ignores and removes the lease of a dead process; rmi refuses a held image", async () => {
    const a = await store.importDirectory(await tree("a", "a"), { name: "a" });
    await mkdir(path.join(store.root, "leases"), { recursive: true });
    const stale = path.join(store.root, "leases", "999999999-dead.json");
    await writeFile(stale, JSON.stringify({ pid: 999_999_999, images: [a.digest], layers: a.layers }));
    await store.holdImages(["a"], async () => {
      await expect(store.remove("a", { inUse: () => false })).rejects.toMatchObject({
        code: "FailedPrecondition",
      });
    });
    const report = await store.prune({ all: true, usedImages: none });
    expect(report.images.map((i) => i.digest)).toEqual([a.digest]);
    expect(await readdir(path.join(store.root, "leases"))).toEqual([]);
  });
});
