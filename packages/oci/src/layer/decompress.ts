import { pipeline, Readable, type TransformOptions } from "node:stream";
import { createGunzip, type ZlibOptions } from "node:zlib";
import { OciError } from "../errors.ts";

export type Compression = "gzip" | "none";

/**
 * Output buffers of 512 KiB instead of zlib's 16 KiB: a thirty-second of the chunks for every step
 * after it (hashing, the tar reader, the writes) to handle, and far less garbage. Larger than an
 * input piece, so an incompressible piece is inflated in one trip to the thread pool, not two
 * (zlib stops when the output is full): 3–5% faster than 256 KiB in interleaved runs, on both the
 * random and the real-trees image; 1 MiB measured the same as 512 KiB.
 */
const GUNZIP_CHUNK_BYTES = 512 * 1024;
/**
 * How much inflated output gunzip may hold before its reader takes it (the stream default is
 * 16 KiB, less than one chunk, so gunzip would wait for the reader and the reader for gunzip):
 * with room ahead, gunzip works on the thread pool while the reader writes files. Measured on
 * the pull bench (interleaved runs, 256 KiB chunks): 128 KiB and 256 KiB 5% faster than the
 * default, 1 MiB 3% slower; with 512 KiB chunks, 512 KiB ahead measured the same as 256 KiB.
 */
const GUNZIP_READ_AHEAD_BYTES = 256 * 1024;
/**
 * Compressed input reaches gunzip in pieces of at least this size, not as the network's 64 KiB
 * reads: every piece is a trip to libuv's thread pool and back, and waking a thread is dear on
 * these machines. 256 KiB: pulls 3–7% faster in interleaved bench runs than 64 KiB; 1 MiB pieces
 * (with 1 MiB chunks) were 2% slower, as bigger batches delay the next stage.
 */
export const GUNZIP_INPUT_BYTES = 256 * 1024;

/** Detects compression from a layer's first bytes. Refuses zstd, which Berth does not unpack yet. */
export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    throw new OciError("InvalidArgument", "zstd-compressed layers are not supported yet");
  }
  return "none";
}

/**
 * Returns the uncompressed bytes of a layer stream (plain tar or gzip,
 * detected by magic bytes) and a function that releases the input.
 */
export async function decompress(
  input: AsyncIterable<Uint8Array>,
): Promise<{ stream: AsyncIterable<Uint8Array>; destroy: () => void }> {
  const iterator = input[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < 4) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    headBytes += next.value.byteLength;
  }
  async function* replay(): AsyncGenerator<Uint8Array> {
    yield* head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const gzip = detectCompression(Buffer.concat(head)) === "gzip";
  const raw = Readable.from(gzip ? coalesce(replay(), GUNZIP_INPUT_BYTES) : replay(), {
    objectMode: false,
  });
  const destroy = () => {
    raw.destroy();
    void iterator.return?.();
  };
  if (!gzip) return { stream: raw, destroy };
  const options: ZlibOptions & TransformOptions = {
    chunkSize: GUNZIP_CHUNK_BYTES,
    readableHighWaterMark: GUNZIP_READ_AHEAD_BYTES,
  };
  const gunzip = createGunzip(options);
  // pipeline gives both streams an error listener and passes a failure of the
  // input on to gunzip, whose reader then sees it (never an uncaught error).
  pipeline(raw, gunzip, () => {});
  return {
    stream: gunzip,
    destroy: () => {
      gunzip.destroy();
      destroy();
    },
  };
}

/** Joins consecutive chunks into pieces of at least `bytes` (the last may hold fewer). */
export async function* coalesce(
  chunks: AsyncIterable<Uint8Array>,
  bytes: number,
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunks) {
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    if (pendingBytes < bytes) continue;
    yield pending.length === 1 ? chunk : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
  }
  if (pendingBytes > 0) yield pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
}
