import { appendFile, mkdtemp, open, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogLine } from "../types.ts";
import { formatLogLine } from "./cri.ts";
import { readLogs } from "./read.ts";

let dir: string;
let log: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-logs-"));
  log = path.join(dir, "ctr.log");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
const rec = (second: number, text: string, stream: "stdout" | "stderr" = "stdout", partial = false) =>
  formatLogLine(at(second), stream, text, partial);

async function collect(iterable: AsyncIterable<LogLine>): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of iterable) lines.push(line.line);
  return lines;
}

/** Bytes this process has read through read(2) and friends so far. */
async function readBytesSoFar(): Promise<number> {
  const io = await readFile("/proc/self/io", "utf8");
  return Number(/^rchar: (\d+)$/m.exec(io)![1]);
}

describe("readLogs", () => {
  it("reads every line with its stream and time, joining partial records", async () => {
    await writeFile(
      log,
      rec(1, "hello") + rec(2, "wor", "stdout", true) + rec(3, "err", "stderr") + rec(4, "ld"),
    );
    const lines: LogLine[] = [];
    for await (const line of readLogs(log)) lines.push(line);
    expect(lines).toEqual([
      { time: "2026-01-01T00:00:01.000Z", stream: "stdout", line: "hello" },
      { time: "2026-01-01T00:00:03.000Z", stream: "stderr", line: "err" },
      { time: "2026-01-01T00:00:02.000Z", stream: "stdout", line: "world" },
    ]);
  });

  it("yields nothing for a missing file, and ignores garbage and a torn last record", async () => {
    expect(await collect(readLogs(log))).toEqual([]);
    await writeFile(log, `${rec(1, "a")}not a record\n${rec(2, "b")}2026-01-01T00:00:03Z std`);
    expect(await collect(readLogs(log))).toEqual(["a", "b"]);
  });

  it("reads rotated files oldest first", async () => {
    await writeFile(`${log}.2`, rec(1, "one") + rec(2, "two"));
    await writeFile(`${log}.1`, rec(3, "three"));
    await writeFile(log, rec(4, "four"));
    expect(await collect(readLogs(log))).toEqual(["one", "two", "three", "four"]);
  });

  it("tails across rotated files, and tail 0 gives nothing", async () => {
    await writeFile(`${log}.1`, rec(1, "one") + rec(2, "two") + rec(3, "three"));
    await writeFile(log, rec(4, "four"));
    expect(await collect(readLogs(log, { tail: 3 }))).toEqual(["two", "three", "four"]);
    expect(await collect(readLogs(log, { tail: 1 }))).toEqual(["four"]);
    expect(await collect(readLogs(log, { tail: 10 }))).toEqual(["one", "two", "three", "four"]);
    expect(await collect(readLogs(log, { tail: 0 }))).toEqual([]);
  });

  it("counts a line split into partial records (even across files) as one line", async () => {
    await writeFile(`${log}.1`, rec(1, "zero") + rec(2, "a", "stdout", true));
    await writeFile(
      log,
      rec(3, "e1", "stderr") + rec(4, "b", "stdout", true) + rec(5, "c") + rec(6, "e2", "stderr"),
    );
    expect(await collect(readLogs(log, { tail: 2 }))).toEqual(["abc", "e2"]);
    expect(await collect(readLogs(log, { tail: 3 }))).toEqual(["e1", "abc", "e2"]);
  });

  it("applies since (a Date) alone and with tail", async () => {
    await writeFile(`${log}.1`, rec(1, "one") + rec(2, "two"));
    await writeFile(log, rec(3, "three") + rec(4, "four"));
    expect(await collect(readLogs(log, { since: at(2) }))).toEqual(["two", "three", "four"]);
    expect(await collect(readLogs(log, { since: at(3) }))).toEqual(["three", "four"]);
    expect(await collect(readLogs(log, { since: at(2), tail: 10 }))).toEqual(["two", "three", "four"]);
    expect(await collect(readLogs(log, { since: at(9) }))).toEqual([]);
  });

  it("skips the sparse hole a writer without O_APPEND leaves after a truncation", async () => {
    await writeFile(log, rec(1, "old"));
    const fh = await open(log, "r+");
    await truncate(log, 0);
    await fh.write(rec(2, "new"), 4096); // where the writer's offset still is
    await fh.close();
    expect(await collect(readLogs(log))).toEqual(["new"]);
    expect(await collect(readLogs(log, { tail: 5 }))).toEqual(["new"]);
  });

  it("tails a large file by reading only its end", async () => {
    const filler = rec(0, "x".repeat(200));
    await writeFile(log, filler.repeat(Math.ceil((16 * 1024 * 1024) / filler.length))); // 16 MiB
    await appendFile(log, rec(1, "y") + rec(2, "z"));
    const before = await readBytesSoFar();
    expect(await collect(readLogs(log, { tail: 2 }))).toEqual(["y", "z"]);
    expect((await readBytesSoFar()) - before).toBeLessThan(1024 * 1024);
  });
});
