import { readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import os from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import { describeRoot } from "../testing/root.ts";
import { HELPER_NICE, withHelperThreadsLowered } from "./helper-threads.ts";

const helpers = () =>
  readdirSync("/proc/self/task")
    .map(Number)
    .filter((tid) => tid !== process.pid);
const niceOf = (tids: number[]) => tids.map((tid) => os.getPriority(tid));

beforeAll(async () => {
  await stat("/"); // starts libuv's thread pool, as a pull's first file calls do
});

describe("withHelperThreadsLowered", () => {
  it("lowers every thread but the main one while the work runs, and returns its result", async () => {
    const mainBefore = os.getPriority(process.pid);
    const tids = helpers();
    expect(tids.length).toBeGreaterThan(0);
    const during = await withHelperThreadsLowered(async () => {
      await stat("/"); // the pool still works
      return { helpers: niceOf(tids), main: os.getPriority(process.pid) };
    });
    for (const nice of during.helpers) expect(nice).toBeGreaterThanOrEqual(HELPER_NICE);
    expect(during.main).toBe(mainBefore);
  });

  it("passes the work's failure on", async () => {
    await expect(
      withHelperThreadsLowered(async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
  });
});

describeRoot("withHelperThreadsLowered restores priorities (only root may lower a nice value)", () => {
  it("gives the threads their nice values back after the last of overlapping calls", async () => {
    const tids = helpers();
    for (const tid of tids) os.setPriority(tid, 0);
    let releaseFirst!: () => void;
    const first = withHelperThreadsLowered(() => new Promise<void>((resolve) => (releaseFirst = resolve)));
    let duringSecond: number[] = [];
    await withHelperThreadsLowered(async () => {
      duringSecond = niceOf(tids);
    });
    // The second call ended while the first still runs: the threads stay lowered.
    expect(duringSecond.every((n) => n >= HELPER_NICE)).toBe(true);
    expect(niceOf(tids).every((n) => n >= HELPER_NICE)).toBe(true);
    releaseFirst();
    await first;
    expect(niceOf(tids)).toEqual(tids.map(() => 0));
  });

  it("restores after a failure too", async () => {
    const tids = helpers();
    for (const tid of tids) os.setPriority(tid, 0);
    await expect(
      withHelperThreadsLowered(async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(niceOf(tids)).toEqual(tids.map(() => 0));
  });
});
