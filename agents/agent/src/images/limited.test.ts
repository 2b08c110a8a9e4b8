import { describe, expect, it } from "vitest";
import { mapLimited } from "./limited.ts";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("mapLimited", () => {
  it("keeps at most `limit` running and gives the results in the items' order", async () => {
    let running = 0;
    let most = 0;
    const results = await mapLimited([30, 5, 20, 1, 10], 2, async (ms) => {
      running += 1;
      most = Math.max(most, running);
      await tick(ms);
      running -= 1;
      return ms * 2;
    });
    expect(results).toEqual([60, 10, 40, 2, 20]);
    expect(most).toBe(2);
    expect(await mapLimited([], 3, async () => 1)).toEqual([]);
  });

  it("after a failure starts nothing more, waits for what runs, then throws the first failure", async () => {
    const started: string[] = [];
    const finished: string[] = [];
    const work = async (name: string) => {
      started.push(name);
      if (name === "bad") {
        await tick(5);
        throw new Error("bad layer");
      }
      if (name === "worse") throw new Error("second failure");
      await tick(name === "slow" ? 60 : 1);
      finished.push(name);
    };
    await expect(mapLimited(["slow", "bad", "late", "worse"], 2, work)).rejects.toThrow("bad layer");
    // "slow" was running when "bad" failed: it was waited for; the later items never started.
    expect(finished).toEqual(["slow"]);
    expect(started).toEqual(["slow", "bad"]);
  });

  it("aborts the signal with the first failure, so running work can stop early", async () => {
    const reasons: unknown[] = [];
    const work = (name: string, signal: AbortSignal) =>
      name === "bad"
        ? Promise.reject(new Error("bad layer"))
        : new Promise<void>((_, reject) => {
            // Would run for ever, but stops when told to.
            signal.addEventListener("abort", () => {
              reasons.push(signal.reason);
              reject(new Error("stopped"));
            });
          });
    await expect(mapLimited(["endless", "bad"], 2, work)).rejects.toThrow("bad layer");
    expect(reasons).toEqual([expect.objectContaining({ message: "bad layer" })]);
  });
});
