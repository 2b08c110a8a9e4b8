/** Test helpers: every wait names what it waited for and has a timeout. */

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Items pushed by callbacks, taken in order by tests. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  next(what: string, ms = 2000): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return withTimeout(new Promise<T>((resolve) => this.waiters.push(resolve)), ms, what);
  }

  /** The next item matching `predicate`, dropping the others. */
  async find(predicate: (item: T) => boolean, what: string, ms = 2000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const item = await this.next(what, Math.max(1, deadline - Date.now()));
      if (predicate(item)) return item;
    }
  }

  get pending(): readonly T[] {
    return this.items;
  }
}

/** Poll `check` until it returns a truthy value, which is returned; the error names what was awaited. */
export async function until<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
