// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR} syntax is what these strings test
import { describe, expect, it } from "vitest";
import { interpolate, interpolateString } from "./interpolate.ts";

const vars = { A: "alpha", EMPTY: "", N: "3" };

describe("interpolateString", () => {
  it.each([
    ["$A", "alpha"],
    ["${A}-x", "alpha-x"],
    ["$$A", "$A"],
    ["cost: $$5", "cost: $5"],
    ["${MISSING:-dflt}", "dflt"],
    ["${EMPTY:-dflt}", "dflt"],
    ["${EMPTY-dflt}", ""],
    ["${A:+set}", "set"],
    ["${EMPTY:+set}", ""],
    ["${EMPTY+set}", "set"],
    ["${MISSING:-${A}}", "alpha"],
    ["100$", "100$"],
    ["$1", "$1"],
  ])("%s → %s", (input, output) => {
    expect(interpolateString(input, vars)).toEqual({ value: output, unset: [] });
  });

  it("reports unset variables without a default", () => {
    expect(interpolateString("x${NOPE}y$ALSO", vars)).toEqual({ value: "xy", unset: ["NOPE", "ALSO"] });
  });

  it("fails on required variables and malformed braces", () => {
    expect(interpolateString("${NOPE:?give it}", vars)).toEqual({
      error: "required variable NOPE is not set: give it",
    });
    expect(interpolateString("${EMPTY?}", vars)).toEqual({ value: "", unset: [] });
    expect(interpolateString("${A", vars)).toHaveProperty("error");
    expect(interpolateString("${1A}", vars)).toHaveProperty("error");
    expect(interpolateString("${A*b}", vars)).toHaveProperty("error");
  });
});

describe("interpolate", () => {
  it("walks maps and lists, leaves keys and non-strings alone, and reports paths", () => {
    const r = interpolate({ $A: ["$A", 3, { k: "${NOPE}" }], n: true }, vars);
    expect(r.value).toEqual({ $A: ["alpha", 3, { k: "" }], n: true });
    expect(r.warnings).toEqual([{ path: ["$A", 2, "k"], message: expect.stringContaining("NOPE") }]);
    expect(r.errors).toEqual([]);
  });
});
