import { setTimeout as sleepFor } from "node:timers/promises";
import type { RouterOutputs } from "@berth/web/router";
import type { Api, Target } from "./api.ts";
import { call } from "./api.ts";
import { parseDuration } from "./duration.ts";
import { absoluteTime } from "./format.ts";
import { printable } from "./table.ts";

export type EventRow = RouterOutputs["events"]["list"][number];

/** What `--type` accepts: the subjects events are about. */
export const EVENT_TYPES = ["stack", "service", "task", "host", "registry"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The server's page size: a page this long means there may be more. */
const PAGE = 500;

/** `--type task,service` (repeatable): the subject types, checked. */
export function parseTypes(values: readonly string[]): EventType[] {
  const types = values.flatMap((v) => v.split(",")).map((v) => v.trim().toLowerCase());
  for (const t of types) {
    if (!(EVENT_TYPES as readonly string[]).includes(t)) {
      throw new Error(`"${t}" is not an event type; use ${EVENT_TYPES.join(", ")}`);
    }
  }
  return [...new Set(types)] as EventType[];
}

/** `--since 10m` (a duration back from now) or `--since 2025-01-31T09:00:00Z` (a time): epoch ms. */
export function parseSince(text: string, now: number): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new Error(`"${text}" is not a time; use e.g. 2025-01-31T09:00:00Z`);
    return ms;
  }
  try {
    return now - parseDuration(text);
  } catch {
    throw new Error(`"${text}" is neither a duration (10m, 2h, 1d) nor a time (2025-01-31T09:00:00Z)`);
  }
}

/** One event per line: `2025-01-31 09:04:05 UTC  task.running      message`. */
export function eventLine(e: EventRow): string {
  return printable(`${absoluteTime(e.at)}  ${e.kind.padEnd(16)}  ${e.message}`)
    .trimEnd()
    .concat("\n");
}

export interface EventQuery {
  types?: EventType[];
  /** Epoch ms: events from then on, oldest first. Without it, the newest `tail`. */
  sinceMs?: number;
  tail: number;
}

/**
 * The events to show first, oldest first, and the cursor to follow from:
 * those since a time (every page), or the newest `tail` of them.
 */
export async function recentEvents(
  api: Api,
  target: Target,
  q: EventQuery,
): Promise<{ events: EventRow[]; cursor: number }> {
  const types = q.types?.length ? { types: q.types } : {};
  if (q.sinceMs !== undefined) {
    const events: EventRow[] = [];
    let afterId: number | undefined;
    for (;;) {
      const page = await call(target, () =>
        api.events.after.query({
          ...(afterId === undefined ? { sinceMs: q.sinceMs } : { afterId }),
          ...types,
          limit: PAGE,
        }),
      );
      events.push(...page);
      afterId = page.at(-1)?.id ?? afterId;
      if (page.length < PAGE) break;
    }
    return { events, cursor: afterId ?? (await latestId(api, target)) };
  }
  const newest = await call(target, () => api.events.list.query({ limit: q.tail, ...types }));
  const events = newest.reverse();
  return { events, cursor: Math.max(events.at(-1)?.id ?? 0, await latestId(api, target)) };
}

/** The id of the newest event of any type: following starts after it. */
async function latestId(api: Api, target: Target): Promise<number> {
  const [latest] = await call(target, () => api.events.list.query({ limit: 1 }));
  return latest?.id ?? 0;
}

export interface FollowOptions {
  types?: EventType[];
  cursor: number;
  intervalMs?: number;
  signal: AbortSignal;
  onEvent(e: EventRow): void;
}

/**
 * Poll for events after the cursor until the signal aborts (Ctrl-C). A
 * polling client needs nothing but HTTP; a second is the delay.
 */
export async function followEvents(api: Api, target: Target, o: FollowOptions): Promise<never> {
  let cursor = o.cursor;
  const types = o.types?.length ? { types: o.types } : {};
  for (;;) {
    const page = await call(target, () => api.events.after.query({ afterId: cursor, ...types, limit: PAGE }));
    for (const e of page) o.onEvent(e);
    cursor = page.at(-1)?.id ?? cursor;
    if (page.length < PAGE) await sleepFor(o.intervalMs ?? 1000, undefined, { signal: o.signal });
  }
}
