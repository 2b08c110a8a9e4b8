/**
 * Time for the simulated runtime: the real clock, or a manual one that a
 * scale test advances (thousands of hollow hosts in one process, no waiting).
 */
export type TimerHandle = unknown;

export interface SimClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realClock: SimClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ManualClock extends SimClock {
  /** Move time forward, running each timer that falls due, in order (letting promises settle between them). */
  advance(ms: number): Promise<void>;
  /** Timers scheduled and not yet run. */
  readonly pending: number;
}

interface ManualTimer {
  id: number;
  due: number;
  fn: () => void;
}

export function createManualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let now = startMs;
  let nextId = 1;
  const timers = new Map<number, ManualTimer>();
  const nextDue = (limit: number): ManualTimer | undefined => {
    let best: ManualTimer | undefined;
    for (const timer of timers.values()) {
      if (
        timer.due <= limit &&
        (!best || timer.due < best.due || (timer.due === best.due && timer.id < best.id))
      ) {
        best = timer;
      }
    }
    return best;
  };
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { id, due: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (let timer = nextDue(target); timer; timer = nextDue(target)) {
        timers.delete(timer.id);
        now = Math.max(now, timer.due);
        timer.fn();
        await settle();
      }
      now = target;
      await settle();
    },
    get pending() {
      return timers.size;
    },
  };
}

/** Let pending promise callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
