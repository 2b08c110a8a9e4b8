import { closeSync, constants, openSync, writeSync } from "node:fs";

/**
 * A new file (created, must not exist) written chunk by chunk with synchronous
 * calls: each chunk goes to the page cache at once, where a write stream sent
 * each to libuv's thread pool and back — measured in interleaved bench runs,
 * pulls 6–9% faster. A pull keeps its compressed blob with it, and a load the
 * archive's blobs.
 */
export class BlobCopy {
  #fd: number;
  constructor(
    readonly file: string,
    mode = 0o644,
  ) {
    this.#fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  }
  write(chunk: Uint8Array): void {
    let done = 0;
    while (done < chunk.byteLength) done += writeSync(this.#fd, chunk, done);
  }
  /** Closes the file (after a failure too; idempotent). */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeSync(fd);
  }
}
