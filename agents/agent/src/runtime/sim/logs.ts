/** `logs` of a simulated container: tail, since, and follow until it settles or the signal aborts. */
import type { LogLine, LogOptions } from "../types.ts";
import type { SimClock } from "./clock.ts";
import { isSettled, type SimContainer, type SimLogLine } from "./container.ts";

export async function* simulatedLogs(
  c: SimContainer,
  clock: SimClock,
  options: LogOptions,
): AsyncGenerator<LogLine> {
  const sinceMs = options.since ? options.since.getTime() : null;
  const shown = (l: SimLogLine) => sinceMs === null || l.timeMs >= sinceMs;
  const written = c.logs.filter((l) => l.timeMs <= clock.now());
  let lastSeq = written.at(-1)?.seq ?? -1;
  let history = written.filter(shown);
  if (options.tail !== undefined && options.tail >= 0)
    history = options.tail === 0 ? [] : history.slice(-options.tail);
  for (const l of history) yield l.line;
  if (!options.follow) return;
  for (;;) {
    if (options.signal?.aborted) return;
    const now = clock.now();
    const fresh = c.logs.filter((l) => l.seq > lastSeq && l.timeMs <= now);
    for (const l of fresh) {
      lastSeq = l.seq;
      if (shown(l)) yield l.line;
    }
    const upcoming = c.logs.find((l) => l.seq > lastSeq);
    if (!upcoming && isSettled(c)) return;
    await nextChange(c, clock, upcoming ? upcoming.timeMs - now : null, options.signal);
  }
}

/** Until the container changes, a future line falls due, or the signal aborts. */
function nextChange(
  c: SimContainer,
  clock: SimClock,
  dueInMs: number | null,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const timer = dueInMs === null ? null : clock.setTimeout(done, Math.max(0, dueInMs));
    function done() {
      if (timer !== null) clock.clearTimeout(timer);
      c.watchers.delete(done);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    c.watchers.add(done);
    signal?.addEventListener("abort", done, { once: true });
  });
}
