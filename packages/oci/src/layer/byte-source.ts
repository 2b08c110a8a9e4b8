import { createHash, type Hash } from "node:crypto";
import { OciError } from "../errors.ts";

/**
 * Pulls exact byte counts from an async stream of chunks, counting every byte
 * it pulls and hashing them (sha256), so the unpacker gets the layer's diffId
 * (the digest of the whole uncompressed tar) without a second pass. A reader
 * with no use for that digest (an image archive's, whose members are hashed
 * one by one) turns the hashing off.
 */
export class ByteSource {
  #iterator: AsyncIterator<Uint8Array>;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #hash: Hash | null;
  #total = 0;
  #done = false;
  readonly #maxBytes: number;

  constructor(source: AsyncIterable<Uint8Array>, maxBytes: number, options: { digest?: boolean } = {}) {
    this.#iterator = source[Symbol.asyncIterator]();
    this.#maxBytes = maxBytes;
    this.#hash = options.digest === false ? null : createHash("sha256");
  }

  /** Bytes pulled from the stream so far. */
  get total(): number {
    return this.#total;
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    let next: IteratorResult<Uint8Array>;
    try {
      next = await this.#iterator.next();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === "string" && code.startsWith("Z_")) {
        throw new OciError("InvalidArgument", `layer is not valid gzip: ${(err as Error).message}`, {
          cause: err,
        });
      }
      throw err;
    }
    if (next.done) {
      this.#done = true;
      return false;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.#total += chunk.length;
    if (this.#total > this.#maxBytes) {
      throw new OciError("InvalidArgument", `layer is larger than the limit of ${this.#maxBytes} bytes`);
    }
    this.#hash?.update(chunk);
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    return true;
  }

  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#pending[0]!;
    if (first.length >= n) {
      // Within one chunk (most headers and small files, with gunzip's 256 KiB chunks): a view, no copy.
      if (first.length === n) this.#pending.shift();
      else this.#pending[0] = first.subarray(n);
      this.#pendingBytes -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.#pending[0]!;
      const used = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.#pending.shift();
      else this.#pending[0] = head.subarray(used);
    }
    this.#pendingBytes -= n;
    return out;
  }

  /** Exactly `n` bytes, or null at a clean end of stream; throws when the stream ends mid-way. */
  async read(n: number): Promise<Buffer | null> {
    while (this.#pendingBytes < n) {
      if (!(await this.#pull())) {
        if (this.#pendingBytes === 0) return null;
        throw new OciError("InvalidArgument", "layer tar is truncated");
      }
    }
    return this.#take(n);
  }

  /** Yields the next `n` bytes in pieces as they arrive (for file bodies). */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#pendingBytes === 0 && !(await this.#pull())) {
        throw new OciError("InvalidArgument", "layer tar is truncated");
      }
      const head = this.#pending[0]!;
      const piece = this.#take(Math.min(head.length, left));
      left -= piece.length;
      yield piece;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n)) {
      // discard
    }
  }

  /** Reads what is left (tar padding after the end marker). */
  async finish(): Promise<void> {
    while (await this.#pull()) {
      this.#pending = [];
      this.#pendingBytes = 0;
    }
  }

  /** "sha256:…" of every byte pulled; once, after finish(). */
  digest(): string {
    if (!this.#hash) throw new Error("ByteSource: made with digest: false");
    return `sha256:${this.#hash.digest("hex")}`;
  }
}
