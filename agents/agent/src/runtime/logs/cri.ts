/**
 * The CRI log format conmon writes with `-l k8s-file:PATH`: one record per
 * line, `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`. A `P` (partial)
 * record is continued by the following records of the same stream up to and
 * including the next `F` (full) record.
 */
import type { LogLine } from "../types.ts";

export type LogStream = LogLine["stream"];

export interface CriRecord {
  /** UTC, RFC 3339 with the record's own fractional digits ("…T17:58:00.123456789Z"). */
  time: string;
  /** Milliseconds since the epoch (for comparisons). */
  timeMs: number;
  stream: LogStream;
  partial: boolean;
  text: string;
}

/** Joined partial lines longer than this are emitted in pieces rather than buffered without bound. */
export const MAX_JOINED_LINE_CHARS = 1024 * 1024;

/** One record of a CRI log file, or null when the line is not one (garbage, `stdin`, a torn write). */
export function parseLogLine(raw: string): CriRecord | null {
  const line = raw.endsWith("\n") ? raw.slice(0, -1) : raw;
  const first = line.indexOf(" ");
  const second = first < 0 ? -1 : line.indexOf(" ", first + 1);
  if (second < 0) return null;
  const stream = line.slice(first + 1, second);
  if (stream !== "stdout" && stream !== "stderr") return null;
  const third = line.indexOf(" ", second + 1);
  const tags = third < 0 ? line.slice(second + 1) : line.slice(second + 1, third);
  // The tag field may carry several tags separated by ":"; the first says full or partial.
  const tag = tags.split(":")[0];
  if (tag !== "F" && tag !== "P") return null;
  const time = normaliseTime(line.slice(0, first));
  if (!time) return null;
  return {
    time: time.text,
    timeMs: time.ms,
    stream,
    partial: tag === "P",
    text: third < 0 ? "" : line.slice(third + 1),
  };
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 with any offset → UTC, keeping the fraction's digits (Date only has milliseconds). */
function normaliseTime(value: string): { text: string; ms: number } | null {
  const match = RFC3339.exec(value);
  if (!match) return null;
  const wholeSeconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(wholeSeconds)) return null;
  const fraction = match[2] ?? "";
  const ms = wholeSeconds + Number(fraction.padEnd(3, "0").slice(0, 3));
  const utc = new Date(wholeSeconds).toISOString().slice(0, 19);
  return { text: fraction ? `${utc}.${fraction}Z` : `${utc}Z`, ms };
}

/** A CRI record line, as conmon writes it (used by tests and the simulated runtime). */
export function formatLogLine(time: Date | string, stream: LogStream, text: string, partial = false): string {
  const stamp = typeof time === "string" ? time : time.toISOString();
  return `${stamp} ${stream} ${partial ? "P" : "F"} ${text}\n`;
}

export interface JoinedLine extends LogLine {
  timeMs: number;
}

/** Joins partial records into whole lines, per stream. */
export interface LineJoiner {
  /** The finished line this record completes, if any. */
  push(record: CriRecord): JoinedLine | null;
  /** Lines still waiting for their final record (at the end of a non-following read). */
  flush(): JoinedLine[];
}

interface Pending {
  time: string;
  timeMs: number;
  parts: string[];
  chars: number;
}

export function createLineJoiner(): LineJoiner {
  const pending = new Map<LogStream, Pending>();
  const finish = (stream: LogStream, p: Pending): JoinedLine => {
    pending.delete(stream);
    return { time: p.time, timeMs: p.timeMs, stream, line: p.parts.join("") };
  };
  return {
    push(record) {
      const current = pending.get(record.stream);
      if (!current && !record.partial) {
        return { time: record.time, timeMs: record.timeMs, stream: record.stream, line: record.text };
      }
      const p = current ?? { time: record.time, timeMs: record.timeMs, parts: [], chars: 0 };
      p.parts.push(record.text);
      p.chars += record.text.length;
      if (!current) pending.set(record.stream, p);
      if (!record.partial || p.chars >= MAX_JOINED_LINE_CHARS) return finish(record.stream, p);
      return null;
    },
    flush() {
      const lines = [...pending.entries()].map(([stream, p]) => finish(stream, p));
      return lines.sort((a, b) => a.timeMs - b.timeMs);
    },
  };
}
