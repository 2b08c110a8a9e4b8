/**
 * Reading a container's log: the rotated files oldest first, then the live
 * file; `tail` reads from the end, `since` skips older records, `follow`
 * keeps reading what is appended until the signal aborts.
 */

import { open } from "node:fs/promises";
import type { LogLine, LogOptions } from "../types.ts";
import { createLineJoiner, type JoinedLine, type LineJoiner, parseLogLine } from "./cri.ts";
import { linesForward, listLogFiles, snapshotFile } from "./files.ts";
import { type FollowStart, followLog } from "./follow.ts";
import { type FileRange, lastRecordTime, tailRecords } from "./tail.ts";

export interface ReadLogsOptions extends LogOptions {
  /** How often a follower checks the file when no change event arrives (default 250 ms). */
  pollIntervalMs?: number;
  /** false: a follower polls only, without fs.watch (default true). */
  watch?: boolean;
  /**
   * For `follow`: end once this returns true and everything written has been
   * read (the runtime passes "the container has exited", like `docker logs -f`).
   */
  isDone?: () => boolean | Promise<boolean>;
}

const DEFAULT_POLL_MS = 250;

/** The lines of the log at `path` (CRI format, as conmon writes it) and of its rotated files. */
export async function* readLogs(path: string, options: ReadLogsOptions = {}): AsyncGenerator<LogLine> {
  const sinceMs = options.since ? options.since.getTime() : null;
  const { ranges, follow } = await snapshot(path);
  const joiner = createLineJoiner();
  const emit = (line: JoinedLine | null): LogLine | null =>
    line && (sinceMs === null || line.timeMs >= sinceMs) ? toLogLine(line) : null;

  const history =
    options.tail !== undefined && options.tail >= 0
      ? tailHistory(ranges, options.tail, sinceMs, joiner)
      : forwardHistory(ranges, sinceMs, joiner);
  for await (const joined of history) {
    const line = emit(joined);
    if (line) yield line;
  }
  if (options.follow && !options.signal?.aborted) {
    const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
    const { signal, isDone, watch } = options;
    const followOptions = { pollIntervalMs, signal, isDone, watch };
    for await (const raw of followLog(path, follow, followOptions)) {
      const record = parseLogLine(raw);
      const line = record && emit(joiner.push(record));
      if (line) yield line;
    }
    if (options.signal?.aborted) return;
  }
  for (const joined of joiner.flush()) {
    const line = emit(joined);
    if (line) yield line;
  }
}

function toLogLine(line: JoinedLine): LogLine {
  return { time: line.time, stream: line.stream, line: line.line };
}

/** Fix what "history" is: each file up to its last whole record, and where following continues. */
async function snapshot(path: string): Promise<{ ranges: FileRange[]; follow: FollowStart }> {
  const files = await listLogFiles(path);
  const ranges: FileRange[] = [];
  let follow: FollowStart = { ino: null, offset: 0 };
  for (const file of files) {
    const snap = await snapshotFile(file);
    if (!snap) continue;
    ranges.push({ path: file, end: snap.end });
    if (file === path) follow = { ino: snap.ino, offset: snap.end, tail: snap.tail };
  }
  return { ranges, follow };
}

async function* tailHistory(
  ranges: FileRange[],
  lines: number,
  sinceMs: number | null,
  joiner: LineJoiner,
): AsyncGenerator<JoinedLine | null> {
  for (const record of await tailRecords(ranges, lines, sinceMs)) yield joiner.push(record);
}

async function* forwardHistory(
  ranges: FileRange[],
  sinceMs: number | null,
  joiner: LineJoiner,
): AsyncGenerator<JoinedLine | null> {
  for (const range of ranges) {
    if (sinceMs !== null) {
      const last = await lastRecordTime(range);
      if (last === null || last < sinceMs) continue;
    }
    const fh = await open(range.path, "r").catch(() => null);
    if (!fh) continue;
    try {
      for await (const raw of linesForward(fh, { offset: 0 }, range.end)) {
        const record = parseLogLine(raw);
        if (record) yield joiner.push(record);
      }
    } finally {
      await fh.close();
    }
  }
}
