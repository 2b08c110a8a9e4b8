/**
 * Writes of small regular files, several in flight at once. Unpacking is
 * bound by the latency of the syscalls per file (open, write, fchown,
 * fchmod, futimes, close — each a trip to libuv's thread pool), not by the
 * disk; overlapping independent files keeps the pool busy while the tar is
 * read on. Only regular-file writes are queued: everything else (directories,
 * links, whiteouts, the hardlink checks) first waits for the queue to drain,
 * and so does a file whose path, a parent or a child of it is in flight.
 */
export class WriteQueue {
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #maxTasks: number;
  readonly #maxBytes: number;
  #bytes = 0;
  #failure: { error: unknown } | null = null;

  constructor(maxTasks: number, maxBytes: number) {
    this.#maxTasks = maxTasks;
    this.#maxBytes = maxBytes;
  }

  get size(): number {
    return this.#inFlight.size;
  }

  /** True when a queued write is at `abs`, above it or below it. */
  conflicts(abs: string): boolean {
    if (this.#inFlight.size === 0) return false;
    if (this.#inFlight.has(abs)) return true;
    const below = `${abs}/`;
    for (const key of this.#inFlight.keys()) {
      if (key.startsWith(below) || abs.startsWith(`${key}/`)) return true;
    }
    return false;
  }

  /** Starts `task` (the write of `bytes` bytes at `abs`) once there is room; throws an earlier write's error. */
  async add(abs: string, bytes: number, task: () => Promise<void>): Promise<void> {
    this.#throwFailure();
    while (
      this.#inFlight.size > 0 &&
      (this.#inFlight.size >= this.#maxTasks || this.#bytes + bytes > this.#maxBytes)
    ) {
      await Promise.race(this.#inFlight.values());
      this.#throwFailure();
    }
    this.#bytes += bytes;
    const running = task().then(
      () => this.#settle(abs, bytes),
      (error: unknown) => {
        this.#settle(abs, bytes);
        this.#failure ??= { error };
      },
    );
    this.#inFlight.set(abs, running);
  }

  /** Waits for every queued write; throws the first error any of them had. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight.values());
    this.#throwFailure();
  }

  #settle(abs: string, bytes: number): void {
    this.#inFlight.delete(abs);
    this.#bytes -= bytes;
  }

  #throwFailure(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
