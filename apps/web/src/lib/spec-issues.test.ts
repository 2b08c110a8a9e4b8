import { describe, expect, it } from "vitest";
import { offsetOf, parseIssues } from "./spec-issues.ts";

describe("stack file issues", () => {
  it("reads file:line:column: message per line, and issues without a place", () => {
    const text = [
      "stack.yml:4:5: services.web.imag: unknown key imag (did you mean image?)",
      "stack.yml:9:14: services.web.deploy.replicas: must be a whole number",
      "stack.yml: the stack has no name: add name: to the file or pass one",
    ].join("\n");
    expect(parseIssues(text, "stack.yml")).toEqual([
      { line: 4, column: 5, message: "services.web.imag: unknown key imag (did you mean image?)" },
      { line: 9, column: 14, message: "services.web.deploy.replicas: must be a whole number" },
      { line: null, column: null, message: "the stack has no name: add name: to the file or pass one" },
    ]);
  });

  it("keeps a message from elsewhere as it is", () => {
    expect(parseIssues("you cannot change this stack", "stack.yml")).toEqual([
      { line: null, column: null, message: "you cannot change this stack" },
    ]);
  });

  it("finds the offset of a line and column, clamped to the line and the text", () => {
    const text = "ab\ncdef\ng";
    expect(offsetOf(text, 1, 1)).toBe(0);
    expect(offsetOf(text, 2, 3)).toBe(5);
    expect(offsetOf(text, 2, 99)).toBe(7);
    expect(offsetOf(text, 3, 1)).toBe(8);
    expect(offsetOf(text, 9, 1)).toBe(text.length);
  });
});
