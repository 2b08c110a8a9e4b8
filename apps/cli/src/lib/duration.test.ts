import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.ts";
import { parseMaxUses, parseTtlSeconds } from "./join-tokens.ts";

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["30m", 30 * 60_000],
    ["24h", 24 * 3_600_000],
    ["7d", 7 * 86_400_000],
    ["1h30m", 90 * 60_000],
    [" 2h ", 2 * 3_600_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "24", "h", "5x", "1.5h", "-1h", "1 h", "24H", "1w", "1h 30m"])(
    "rejects %j naming what is accepted",
    (text) => {
      expect(() => parseDuration(text)).toThrow(
        /is not a duration: use a number and a unit, e\.g\. 30m, 24h or 7d/,
      );
    },
  );

  it("rejects zero", () => {
    expect(() => parseDuration("0m")).toThrow(/zero/);
  });
});

describe("join token flags", () => {
  it("turns --ttl into whole seconds, up to 30 days", () => {
    expect(parseTtlSeconds("24h")).toBe(86_400);
    expect(parseTtlSeconds("30d")).toBe(30 * 86_400);
    expect(() => parseTtlSeconds("31d")).toThrow(/at most 30d/);
  });

  it("accepts --uses from 1 to 10000 only", () => {
    expect(parseMaxUses("1")).toBe(1);
    expect(parseMaxUses("10000")).toBe(10_000);
    for (const bad of ["0", "10001", "-1", "1.5", "two", ""]) {
      expect(() => parseMaxUses(bad), bad).toThrow(/whole number from 1 to 10000/);
    }
  });
});
