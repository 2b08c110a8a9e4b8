import { describe, expect, it } from "vitest";
import { processWord, processWords, SubstitutionError, splitRawWords } from "./shell-lex.ts";

const env = new Map([
  ["NAME", "berth"],
  ["EMPTY", ""],
  ["SPACED", "a b"],
]);

describe("processWord (Docker's substitution)", () => {
  it.each([
    ["$NAME", "berth"],
    ["${NAME}", "berth"],
    ["pre-${NAME}-post", "pre-berth-post"],
    ["$UNSET", ""],
    ["${UNSET:-fallback}", "fallback"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${EMPTY-fallback}", ""],
    ["${UNSET-fallback}", "fallback"],
    ["${NAME:-fallback}", "berth"],
    ["${NAME:+set}", "set"],
    ["${EMPTY:+set}", ""],
    ["${EMPTY+set}", "set"],
    ["${UNSET:+set}", ""],
    ["${UNSET:-$NAME}", "berth"],
    ["'$NAME'", "$NAME"],
    ['"$NAME"', "berth"],
    ['"a \\"quoted\\" $NAME"', 'a "quoted" berth'],
    ["\\$NAME", "$NAME"],
    ["$", "$"],
    ["a$1", "a$1"],
    ["${SPACED}", "a b"],
  ])("%s → %s", (input, expected) => {
    expect(processWord(input, env)).toBe(expected);
  });

  it("honours a backtick escape", () => {
    expect(processWord("`$NAME", env, "`")).toBe("$NAME");
    expect(processWord("C:\\path", env, "`")).toBe("C:\\path");
  });

  it("fails on ${VAR:?message} when unset, and on bad syntax", () => {
    expect(() => processWord("${UNSET:?must be set}", env)).toThrow(/UNSET: must be set/);
    expect(processWord("${NAME:?must be set}", env)).toBe("berth");
    expect(() => processWord("${NAME", env)).toThrow(SubstitutionError);
    expect(() => processWord("${NAME/a/b}", env)).toThrow(/unsupported modifier/);
    expect(() => processWord("'open", env)).toThrow(/missing '/);
  });
});

describe("processWords", () => {
  it("splits at unquoted whitespace and keeps quoted spaces", () => {
    expect(processWords('a "b c" d\\ e $NAME', env)).toEqual(["a", "b c", "d e", "berth"]);
  });

  it("splits an unquoted expansion, not a quoted one", () => {
    expect(processWords("$SPACED x", env)).toEqual(["a", "b", "x"]);
    expect(processWords('"$SPACED" x', env)).toEqual(["a b", "x"]);
  });
});

describe("splitRawWords", () => {
  it("keeps quotes and escapes for ENV and LABEL pairs", () => {
    expect(splitRawWords('A="x y" B=z\\ w C')).toEqual(['A="x y"', "B=z\\ w", "C"]);
    expect(() => splitRawWords('A="open')).toThrow(/missing "/);
  });
});
