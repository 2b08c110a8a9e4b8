/**
 * Reconnect delays: exponential backoff with full jitter (a uniformly random
 * delay between 0 and min(cap, base · 2^attempt)), so a fleet of agents that
 * lost the control plane at once does not come back at once.
 */
export interface BackoffOptions {
  /** First ceiling, in ms. */
  baseMs?: number;
  /** Largest ceiling, in ms. */
  capMs?: number;
  /** A connection that stayed up this long resets the attempt count. */
  resetAfterMs?: number;
  /** Uniform in [0, 1); injected by tests. */
  random?: () => number;
}

export const BACKOFF_DEFAULTS = { baseMs: 500, capMs: 30_000, resetAfterMs: 30_000 } as const;

/** The delay for one attempt (0-based). Pure given `random`. */
export function fullJitterDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 52));
  return Math.floor(random() * ceiling);
}

export interface Backoff {
  /** The connection is up (authenticated) since `nowMs`. */
  markUp(nowMs: number): void;
  /** The connection is down at `nowMs`: how long to wait before the next attempt. */
  nextDelay(nowMs: number): number;
  /** Attempts made since the last reset. */
  readonly attempt: number;
}

export function createBackoff(options: BackoffOptions = {}): Backoff {
  const baseMs = options.baseMs ?? BACKOFF_DEFAULTS.baseMs;
  const capMs = options.capMs ?? BACKOFF_DEFAULTS.capMs;
  const resetAfterMs = options.resetAfterMs ?? BACKOFF_DEFAULTS.resetAfterMs;
  const random = options.random ?? Math.random;
  let attempt = 0;
  let upSince: number | null = null;
  return {
    markUp(nowMs) {
      upSince = nowMs;
    },
    nextDelay(nowMs) {
      if (upSince !== null && nowMs - upSince >= resetAfterMs) attempt = 0;
      upSince = null;
      const delay = fullJitterDelay(attempt, baseMs, capMs, random);
      attempt += 1;
      return delay;
    },
    get attempt() {
      return attempt;
    },
  };
}
