/**
 * The records behind the last N lines of a set of log files, read from the
 * end: cost grows with N, not with the size of the files.
 */
import { type CriRecord, type LogStream, parseLogLine } from "./cri.ts";
import { linesBackward } from "./files.ts";

export interface FileRange {
  path: string;
  /** Read up to this offset (exclusive). */
  end: number;
}

/**
 * Reading backwards: each record is kept until N lines have ended (or a
 * record older than `sinceMs` is met); after that only the partial records
 * that begin the kept lines are still taken, until each stream reaches the
 * full record of an earlier line.
 */
class TailSelector {
  readonly kept: CriRecord[] = [];
  private lineEnds = 0;
  private satisfied: boolean;
  private readonly seen = new Set<LogStream>();
  private readonly closed = new Set<LogStream>();

  constructor(
    private readonly lines: number,
    private readonly sinceMs: number | null,
  ) {
    this.satisfied = lines <= 0;
  }

  /** Feed the next older record; false once nothing older is needed. */
  offer(record: CriRecord): boolean {
    if (!this.satisfied && this.sinceMs !== null && record.timeMs < this.sinceMs) this.satisfied = true;
    if (!this.satisfied) {
      // A full record ends a line; so does a trailing partial (the newest record of its stream).
      if (!record.partial || !this.seen.has(record.stream)) this.lineEnds++;
      this.keep(record);
      if (this.lineEnds >= this.lines) this.satisfied = true;
      return true;
    }
    if (this.seen.has(record.stream) && !this.closed.has(record.stream) && record.partial) {
      this.keep(record);
    } else {
      this.closed.add(record.stream);
    }
    return [...this.seen].some((stream) => !this.closed.has(stream));
  }

  private keep(record: CriRecord): void {
    this.kept.push(record);
    this.seen.add(record.stream);
  }
}

/** Records (oldest first) making up the last `lines` lines of `files` (oldest file first). */
export async function tailRecords(
  files: readonly FileRange[],
  lines: number,
  sinceMs: number | null,
): Promise<CriRecord[]> {
  const selector = new TailSelector(lines, sinceMs);
  if (lines <= 0) return [];
  outer: for (const file of [...files].reverse()) {
    for await (const raw of linesBackward(file.path, file.end)) {
      const record = parseLogLine(raw);
      if (record && !selector.offer(record)) break outer;
    }
  }
  return selector.kept.reverse();
}

/** The time of the newest record of a file, or null when it has none. */
export async function lastRecordTime(file: FileRange): Promise<number | null> {
  for await (const raw of linesBackward(file.path, file.end)) {
    const record = parseLogLine(raw);
    if (record) return record.timeMs;
  }
  return null;
}
