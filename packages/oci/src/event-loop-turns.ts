/** Bytes between two turns of the event loop. */
export const TURN_BYTES = 64 * 1024 * 1024;

/**
 * For loops that read or write with synchronous calls (faster here than a thread-pool trip per
 * call, see layer-tar.ts): counts the bytes, and once per TURN_BYTES lets the event loop turn, so
 * a timer or a signal (Ctrl-C) is not kept waiting for a whole tree when nothing else in the loop
 * waits for real I/O.
 */
export class EventLoopTurns {
  #bytes = 0;

  /** Counts `bytes`; resolves after a turn of the event loop when TURN_BYTES have gone by since the last. */
  async add(bytes: number): Promise<void> {
    this.#bytes += bytes;
    if (this.#bytes < TURN_BYTES) return;
    this.#bytes = 0;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
