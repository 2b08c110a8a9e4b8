import { describe, expect, it } from "vitest";
import { parseBytes, parseCpus, parseDuration } from "./units.ts";

describe("parseDuration", () => {
  it.each([
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["1h", 3_600_000],
    ["500ms", 500],
    ["1.5s", 1500],
    ["0", 0],
    ["2h45m0.5s", 9_900_500],
  ])("%s is %i ms", (input, ms) => expect(parseDuration(input)).toEqual({ ok: true, value: ms }));

  it.each([["10"], ["ten seconds"], ["10 s"], [""], ["5d"], [5], [null]])("refuses %j", (input) => {
    expect(parseDuration(input).ok).toBe(false);
  });
});

describe("parseBytes", () => {
  it.each([
    ["128M", 128 * 1024 ** 2],
    ["1g", 1024 ** 3],
    ["512kb", 512 * 1024],
    ["1.5G", 1.5 * 1024 ** 3],
    ["100", 100],
    [4096, 4096],
  ])("%s is %i bytes", (input, bytes) => expect(parseBytes(input)).toEqual({ ok: true, value: bytes }));

  it.each([["12 parsecs"], ["-1M"], [0], [1.5], ["M"], [true]])("refuses %j", (input) => {
    expect(parseBytes(input).ok).toBe(false);
  });
});

describe("parseCpus", () => {
  it("reads strings and numbers", () => {
    expect(parseCpus("0.5")).toEqual({ ok: true, value: 0.5 });
    expect(parseCpus(2)).toEqual({ ok: true, value: 2 });
  });
  it.each([["0"], [-1], ["lots"], [2000], [""]])("refuses %j", (input) =>
    expect(parseCpus(input).ok).toBe(false),
  );
});
