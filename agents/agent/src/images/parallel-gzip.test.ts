import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GZIP_BLOCK_BYTES, ParallelGzip } from "./parallel-gzip.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-pgzip-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Compresses `pieces` into a new file; its bytes and what end() said. */
async function compress(name: string, pieces: Buffer[]) {
  const file = path.join(dir, name);
  const gzip = await ParallelGzip.create(file);
  for (const piece of pieces) await gzip.write(piece);
  const result = await gzip.end();
  return { file, bytes: await readFile(file), result };
}

/** Splits `data` at the given sizes (the rest in one last piece). */
function cut(data: Buffer, sizes: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    pieces.push(data.subarray(at, at + size));
    at += size;
  }
  pieces.push(data.subarray(at));
  return pieces;
}

/** gzip members in `bytes` (each starts with the magic and method bytes after the previous ends). */
const members = (bytes: Buffer) => {
  let count = 0;
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0x1f && bytes[i + 1] === 0x8b && bytes[i + 2] === 0x08) count++;
  }
  return count;
};

describe("ParallelGzip", () => {
  it("makes one gzip file of members at fixed offsets: the same bytes however the input is cut", async () => {
    // Text that compresses, with random runs in it: 2.5 blocks.
    const size = Math.floor(GZIP_BLOCK_BYTES * 2.5);
    const data = Buffer.alloc(size);
    for (let at = 0; at < size; at += 4096) {
      const part = at % 65536 === 0 ? randomBytes(4096) : Buffer.from("layer ".repeat(683));
      part.copy(data, at);
    }
    const whole = await compress("whole.gz", [data]);
    const ragged = await compress("ragged.gz", cut(data, [1, 3 << 20, 7, GZIP_BLOCK_BYTES + 5, 100]));
    expect(ragged.bytes.equals(whole.bytes)).toBe(true);
    expect(gunzipSync(whole.bytes).equals(data)).toBe(true);
    expect(whole.result).toEqual({
      digest: `sha256:${createHash("sha256").update(whole.bytes).digest("hex")}`,
      size: whole.bytes.length,
    });
    expect(whole.bytes.length).toBeLessThan(size / 2);
    expect(members(whole.bytes)).toBeGreaterThanOrEqual(3);
    // GNU gzip reads every member too.
    const gnu = spawnSync("gzip", ["-dc", whole.file], { maxBuffer: 64 << 20 });
    expect(gnu.status).toBe(0);
    expect(gnu.stdout.equals(data)).toBe(true);
  });

  it("writes a gzip file for empty input", async () => {
    const empty = await compress("empty.gz", []);
    expect(gunzipSync(empty.bytes).length).toBe(0);
    expect(empty.result.size).toBe(empty.bytes.length);
  });

  it("refuses a file that exists, and abort waits for the members under way", async () => {
    const gzip = await ParallelGzip.create(path.join(dir, "a.gz"));
    await expect(ParallelGzip.create(path.join(dir, "a.gz"))).rejects.toMatchObject({ code: "EEXIST" });
    await gzip.write(randomBytes(GZIP_BLOCK_BYTES + 1));
    await gzip.abort();
    await gzip.abort(); // twice is harmless
  });
});
