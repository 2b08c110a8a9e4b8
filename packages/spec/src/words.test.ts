import { describe, expect, it } from "vitest";
import { parseEnvFile } from "./env-file.ts";
import { splitWords } from "./words.ts";

describe("splitWords", () => {
  it.each([
    ["echo hi", ["echo", "hi"]],
    ["  sh  -c 'echo \"a b\"' ", ["sh", "-c", 'echo "a b"']],
    ['say "it\\"s" ok', ["say", 'it"s', "ok"]],
    ["a\\ b c", ["a b", "c"]],
    ["x '' y", ["x", "", "y"]],
    ["", []],
  ])("%j", (input, words) => expect(splitWords(input)).toEqual(words));

  it("refuses an unterminated quote", () => expect(splitWords("echo 'oops")).toBeUndefined());
});

describe("parseEnvFile", () => {
  it("reads KEY=VALUE lines with comments, quotes, export and bare keys", () => {
    const text = [
      "# comment",
      "",
      "A=1",
      "export B=two words",
      "C='single $quoted'",
      'D="line\\nbreak"',
      "E=value # trailing comment",
      "FROM_SHELL",
      "NOT_SET",
      "not a line",
    ].join("\n");
    const r = parseEnvFile(text, { FROM_SHELL: "s" });
    expect(r.values).toEqual({
      A: "1",
      B: "two words",
      C: "single $quoted",
      D: "line\nbreak",
      E: "value",
      FROM_SHELL: "s",
    });
    expect(r.errors).toEqual([{ line: 10, message: expect.stringContaining("KEY=VALUE") }]);
  });
});
