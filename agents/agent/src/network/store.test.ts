import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loopbackConflist } from "./conflist.ts";
import { KeyedLock } from "./lock.ts";
import { type AttachmentRecord, createAttachmentStore, validateContainerId } from "./store.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-netstore-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (containerId: string): AttachmentRecord => ({
  version: 1,
  containerId,
  mode: "none",
  hostname: "h",
  ports: [],
  netns: `berth-${containerId.slice(0, 12)}`,
  networks: [{ ifname: "lo", conflist: loopbackConflist(), result: null }],
  complete: false,
  createdAt: new Date(0).toISOString(),
});

describe("attachment store", () => {
  it("writes, reads, lists and removes records; removing twice is fine", async () => {
    const store = createAttachmentStore(path.join(dir, "containers"));
    expect(await store.read("a1")).toBeNull();
    await store.write(record("a1"));
    await store.write(record("b2"));
    expect(await store.read("a1")).toEqual(record("a1"));
    expect((await store.list()).records.map((r) => r.containerId)).toEqual(["a1", "b2"]);
    await store.remove("a1");
    await store.remove("a1");
    expect((await store.list()).records.map((r) => r.containerId)).toEqual(["b2"]);
    expect(await readdir(path.join(dir, "containers"))).toEqual(["b2.json"]);
  });

  it("reports corrupt files by id instead of failing the whole list", async () => {
    const store = createAttachmentStore(dir);
    await store.write(record("good"));
    await writeFile(path.join(dir, "bad.json"), "{not json");
    await writeFile(path.join(dir, "stray.txt"), "x");
    await writeFile(path.join(dir, "good.json.123.abc.tmp"), "{half");
    expect(await store.list()).toMatchObject({ records: [{ containerId: "good" }], corrupt: ["bad"] });
    expect(await store.removeTempFiles()).toBe(0); // too young: maybe a write in progress
    expect(await store.removeTempFiles(0)).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(["bad.json", "good.json", "stray.txt"]);
    await expect(store.read("bad")).rejects.toMatchObject({ code: "FailedPrecondition" });
  });

  it("refuses ids that are not CNI container ids (or safe file names)", () => {
    for (const bad of ["", "../x", "a/b", "a b", ".hidden"]) {
      expect(() => validateContainerId(bad), bad).toThrow(
        expect.objectContaining({ code: "InvalidArgument" }),
      );
    }
  });
});

describe("keyed lock", () => {
  it("runs work on one key in order, even after a failure, and different keys side by side", async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = lock.run("k", async () => {
      await gate;
      order.push("k1");
      throw new Error("boom");
    });
    const second = lock.run("k", async () => order.push("k2"));
    await lock.run("other", async () => order.push("other"));
    release();
    await expect(first).rejects.toThrow("boom");
    await second;
    expect(order).toEqual(["other", "k1", "k2"]);
  });
});
