import { appendFile, mkdtemp, open, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AsyncQueue, withTimeout } from "../../testing/wait.ts";
import type { LogLine } from "../types.ts";
import { formatLogLine } from "./cri.ts";
import { type ReadLogsOptions, readLogs } from "./read.ts";
import { rotateIfNeeded } from "./rotate.ts";

let dir: string;
let log: string;
let abort: AbortController;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "berth-follow-"));
  log = path.join(dir, "ctr.log");
  abort = new AbortController();
});
afterEach(async () => {
  abort.abort();
  await rm(dir, { recursive: true, force: true });
});

let second = 0;
const rec = (text: string, partial = false) =>
  formatLogLine(new Date(Date.UTC(2026, 0, 1, 0, 0, second++)), "stdout", text, partial);

/** Follow `log` in the background; lines arrive in the queue, `done` settles when the reader ends. */
function follow(options: ReadLogsOptions = {}) {
  const queue = new AsyncQueue<string>();
  const done = (async () => {
    for await (const line of readLogs(log, {
      follow: true,
      signal: abort.signal,
      pollIntervalMs: 20,
      ...options,
    })) {
      queue.push((line as LogLine).line);
    }
  })();
  return { queue, done };
}

async function expectLines(queue: AsyncQueue<string>, expected: string[]): Promise<void> {
  const got: string[] = [];
  for (const want of expected) got.push(await queue.next(`log line "${want}" (got ${JSON.stringify(got)})`));
  expect(got).toEqual(expected);
}

describe("readLogs with follow", () => {
  it("yields the history, then appended lines (joining partials), until the signal aborts", async () => {
    await writeFile(log, rec("one"));
    const { queue, done } = follow();
    await expectLines(queue, ["one"]);
    await appendFile(log, rec("tw", true));
    await appendFile(log, rec("o"));
    await appendFile(log, rec("three"));
    await expectLines(queue, ["two", "three"]);
    abort.abort();
    await withTimeout(done, 2000, "the follower to end after abort");
    expect(queue.pending).toEqual([]);
  });

  it("waits for a log file that does not exist yet", async () => {
    const { queue } = follow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeFile(log, rec("late"));
    await expectLines(queue, ["late"]);
  });

  it("continues after copytruncate rotation without losing or repeating lines", async () => {
    await writeFile(log, rec("a"));
    const { queue } = follow({ tail: 1 });
    await expectLines(queue, ["a"]);
    const writer = await open(log, "a"); // O_APPEND, like conmon
    await writer.write(rec("b"));
    expect(await rotateIfNeeded(log, { maxBytes: 1, maxFiles: 3 })).toBe(true);
    await writer.write(rec("c"));
    await expectLines(queue, ["b", "c"]);
    expect(await rotateIfNeeded(log, { maxBytes: 1, maxFiles: 3 })).toBe(true);
    await writer.write(rec("d"));
    await writer.close();
    await expectLines(queue, ["d"]);
  });

  it("recovers lines written after its last read but before the truncation", async () => {
    await writeFile(log, rec("a"));
    const idle = new AsyncQueue<true>();
    // isDone is asked each time the reader has caught up, just before it sleeps.
    const { queue } = follow({
      pollIntervalMs: 300,
      watch: false,
      isDone: () => {
        idle.push(true);
        return false;
      },
    });
    await expectLines(queue, ["a"]);
    await idle.next("the follower to catch up");
    // Rotate while the reader sleeps: the file is back to the size it had
    // ("c" is as long as "a"), yet the reader must notice and read "b" from log.1.
    await appendFile(log, rec("b"));
    await rotateIfNeeded(log, { maxBytes: 1, maxFiles: 2 });
    await appendFile(log, rec("c"));
    await expectLines(queue, ["b", "c"]);
  });

  it("switches to a file that replaced the followed one after draining the old one", async () => {
    await writeFile(log, rec("a"));
    const { queue } = follow();
    await expectLines(queue, ["a"]);
    await writeFile(`${log}.tmp`, rec("new-1"));
    await appendFile(log, rec("b"));
    await rename(`${log}.tmp`, log);
    await appendFile(log, rec("new-2"));
    await expectLines(queue, ["b", "new-1", "new-2"]);
  });

  it("ends once isDone is true and everything written has been read", async () => {
    await writeFile(log, rec("a"));
    let done = false;
    const follower = follow({ isDone: () => done });
    await expectLines(follower.queue, ["a"]);
    await appendFile(log, rec("last"));
    done = true;
    await withTimeout(follower.done, 2000, "the follower to end once the container is done");
    await expectLines(follower.queue, ["last"]);
  });
});
