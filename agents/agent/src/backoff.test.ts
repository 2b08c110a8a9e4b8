import { describe, expect, it } from "vitest";
import { createBackoff, fullJitterDelay } from "./backoff.ts";

const almostOne = () => 0.999_999;

describe("fullJitterDelay", () => {
  it("doubles the ceiling per attempt from the base", () => {
    expect([0, 1, 2, 3].map((a) => fullJitterDelay(a, 500, 30_000, almostOne))).toEqual([
      499, 999, 1999, 3999,
    ]);
  });

  it("never exceeds the cap, even for huge attempt numbers", () => {
    expect(fullJitterDelay(10, 500, 30_000, almostOne)).toBe(29_999);
    expect(fullJitterDelay(5000, 500, 30_000, almostOne)).toBe(29_999);
  });

  it("scales the ceiling by the random draw (full jitter)", () => {
    expect(fullJitterDelay(3, 500, 30_000, () => 0)).toBe(0);
    expect(fullJitterDelay(3, 500, 30_000, () => 0.5)).toBe(2000);
  });
});

describe("createBackoff", () => {
  it("uses the defaults: base 500 ms, cap 30 s", () => {
    const backoff = createBackoff({ random: almostOne });
    const delays = Array.from({ length: 10 }, () => backoff.nextDelay(0));
    expect(delays.slice(0, 3)).toEqual([499, 999, 1999]);
    expect(delays.at(-1)).toBe(29_999);
    expect(backoff.attempt).toBe(10);
  });

  it("resets after a connection stayed up long enough", () => {
    const backoff = createBackoff({ random: almostOne, resetAfterMs: 1000 });
    backoff.nextDelay(0);
    backoff.nextDelay(0);
    backoff.markUp(10_000);
    expect(backoff.nextDelay(11_000)).toBe(499);
    expect(backoff.attempt).toBe(1);
  });

  it("keeps growing when connections drop right after coming up", () => {
    const backoff = createBackoff({ random: almostOne, resetAfterMs: 1000 });
    backoff.nextDelay(0);
    backoff.markUp(10_000);
    expect(backoff.nextDelay(10_500)).toBe(999);
    // A drop without a markUp in between is never a reset, however late.
    expect(backoff.nextDelay(99_000)).toBe(1999);
  });
});
