import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatLogLine } from "./cri.ts";
import { readLogs } from "./read.ts";
import { removeLogFiles, rotateIfNeeded } from "./rotate.ts";

let dir: string;
let log: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-rotate-"));
  log = path.join(dir, "ctr.log");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rec = (n: number) => formatLogLine(new Date(Date.UTC(2026, 0, 1, 0, 0, n)), "stdout", `line ${n}`);
const text = (file: string) => readFile(file, "utf8").catch(() => null);

async function lines(): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLogs(log)) out.push(line.line);
  return out;
}

describe("rotateIfNeeded", () => {
  it("does nothing below the size limit or without a file", async () => {
    expect(await rotateIfNeeded(log, { maxBytes: 100, maxFiles: 3 })).toBe(false);
    await writeFile(log, rec(1));
    expect(await rotateIfNeeded(log, { maxBytes: 1000, maxFiles: 3 })).toBe(false);
    expect(await text(log)).toBe(rec(1));
  });

  it("copies to .1, truncates in place, shifts older files and keeps maxFiles in all", async () => {
    const { ino } = await writeFile(log, rec(1)).then(() => stat(log));
    for (let n = 2; n <= 5; n++) {
      expect(await rotateIfNeeded(log, { maxBytes: 10, maxFiles: 3 })).toBe(true);
      await writeFile(log, rec(n), { flag: "a" });
    }
    expect((await stat(log)).ino).toBe(ino); // truncated, never replaced: the writer's fd stays valid
    expect(await text(log)).toBe(rec(5));
    expect(await text(`${log}.1`)).toBe(rec(4));
    expect(await text(`${log}.2`)).toBe(rec(3));
    expect(await text(`${log}.3`)).toBeNull();
    expect(await lines()).toEqual(["line 3", "line 4", "line 5"]);
  });

  it("with maxFiles 1 truncates without keeping a copy", async () => {
    await writeFile(log, rec(1));
    expect(await rotateIfNeeded(log, { maxBytes: 1, maxFiles: 1 })).toBe(true);
    expect(await text(log)).toBe("");
    expect(await text(`${log}.1`)).toBeNull();
  });

  it("keeps working with a writer that does not use O_APPEND, keeping the hole sparse in the copy", async () => {
    const writer = await open(log, "w");
    await writer.write(rec(1));
    await rotateIfNeeded(log, { maxBytes: 1, maxFiles: 3 });
    await writer.write(rec(2)); // lands at the old offset: a hole of NULs before it
    expect((await readFile(log))[0]).toBe(0);
    expect(await lines()).toEqual(["line 1", "line 2"]);
    await rotateIfNeeded(log, { maxBytes: 1, maxFiles: 3 });
    await writer.close();
    const copy = await readFile(`${log}.1`);
    expect(copy.subarray(rec(1).length).toString()).toBe(rec(2)); // same offset as in the live file
    expect((await stat(`${log}.1`)).blocks * 512).toBeLessThan(copy.length + 4096);
    expect(await lines()).toEqual(["line 1", "line 2"]);
  });

  it("rejects nonsense limits", async () => {
    await writeFile(log, rec(1));
    await expect(rotateIfNeeded(log, { maxBytes: 0, maxFiles: 3 })).rejects.toThrow(RangeError);
    await expect(rotateIfNeeded(log, { maxBytes: 10, maxFiles: 0 })).rejects.toThrow(RangeError);
  });

  it("removeLogFiles removes the file and its rotated copies", async () => {
    await writeFile(log, rec(1));
    await writeFile(`${log}.1`, rec(0));
    await removeLogFiles(log);
    expect(await text(log)).toBeNull();
    expect(await text(`${log}.1`)).toBeNull();
  });
});
