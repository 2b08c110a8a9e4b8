import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readJson, withLockFile, writeFileAtomic } from "./atomic.ts";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-atomic-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic and readJson", () => {
  it("replaces a file whole and leaves no temp file", async () => {
    const file = path.join(dir, "names.json");
    await writeFileAtomic(file, '{"a":1}');
    await writeFileAtomic(file, '{"b":2}');
    expect(await readJson(file, {})).toEqual({ b: 2 });
    expect(await readdir(dir)).toEqual(["names.json"]);
  });

  it("gives the fallback for a missing file and refuses a corrupt one", async () => {
    expect(await readJson(path.join(dir, "missing.json"), { none: true })).toEqual({ none: true });
    await writeFile(path.join(dir, "bad.json"), "{nope");
    await expect(readJson(path.join(dir, "bad.json"), {})).rejects.toMatchObject({ code: "Internal" });
  });
});

describe("withLockFile", () => {
  it("runs holders one at a time", async () => {
    const lock = path.join(dir, "lock");
    const events: string[] = [];
    const holder = (name: string) =>
      withLockFile(lock, async () => {
        events.push(`${name}+`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push(`${name}-`);
      });
    await Promise.all([holder("a"), holder("b"), holder("c")]);
    for (let i = 0; i < events.length; i += 2)
      expect(events[i]!.slice(0, 1)).toBe(events[i + 1]!.slice(0, 1));
    await expect(readFile(lock)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("breaks a lock left by a dead process", async () => {
    const dead = spawnSync("true").pid!;
    const lock = path.join(dir, "lock");
    await writeFile(lock, String(dead));
    expect(await withLockFile(lock, async () => "got it", 2000)).toBe("got it");
  });

  it("gives up with Unavailable while a live process holds it", async () => {
    const lock = path.join(dir, "lock");
    await writeFile(lock, String(process.pid));
    await expect(withLockFile(lock, async () => "never", 200)).rejects.toMatchObject({ code: "Unavailable" });
  });
});
