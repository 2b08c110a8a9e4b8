import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { coalesce, decompress } from "./decompress.ts";

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

async function* from(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/** `data` cut into pieces of `size` bytes. */
const cut = (data: Buffer, size: number) =>
  Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size));

describe("coalesce", () => {
  it("joins chunks into pieces of at least the size asked, in order, the last one shorter", async () => {
    const data = randomBytes(10_000);
    const pieces = await collect(coalesce(from(cut(data, 300)), 1024));
    expect(pieces.slice(0, -1).every((p) => p.byteLength >= 1024 && p.byteLength < 1024 + 300)).toBe(true);
    expect(pieces.at(-1)!.byteLength).toBeLessThanOrEqual(1024 + 300);
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
  });

  it("passes a chunk as large as the size on without copying it", async () => {
    const big = randomBytes(4096);
    const [piece] = await collect(coalesce(from([big]), 1024));
    expect(piece).toBe(big);
  });

  it("yields nothing for an empty stream", async () => {
    expect(await collect(coalesce(from([]), 1024))).toEqual([]);
  });
});

describe("decompress", () => {
  it("inflates a gzip stream that arrives in small and uneven chunks", async () => {
    const data = randomBytes(700 * 1024);
    const gz = gzipSync(data);
    const chunks = [gz.subarray(0, 1), gz.subarray(1, 3), ...cut(gz.subarray(3), 5000)];
    const { stream, destroy } = await decompress(from(chunks));
    try {
      expect(Buffer.concat(await collect(stream)).equals(data)).toBe(true);
    } finally {
      destroy();
    }
  });

  it("passes an uncompressed stream through unchanged", async () => {
    const data = randomBytes(100 * 1024);
    const { stream, destroy } = await decompress(from(cut(data, 777)));
    try {
      expect(Buffer.concat(await collect(stream)).equals(data)).toBe(true);
    } finally {
      destroy();
    }
  });
});
