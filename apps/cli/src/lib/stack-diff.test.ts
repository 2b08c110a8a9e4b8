import { describe, expect, it } from "vitest";
import { diffRange, parseRevision, unifiedYamlDiff } from "./stack-diff.ts";

describe("unifiedYamlDiff", () => {
  it("is a unified diff headed name@A and name@B", () => {
    const from = { n: 1, yaml: "services:\n  web:\n    image: web:1\n    deploy: { replicas: 2 }\n" };
    const to = { n: 2, yaml: "services:\n  web:\n    image: web:2\n    deploy: { replicas: 2 }\n" };
    expect(unifiedYamlDiff("shop", { from, to })).toBe(
      [
        "--- shop@1",
        "+++ shop@2",
        "@@ -1,4 +1,4 @@",
        " services:",
        "   web:",
        "-    image: web:1",
        "+    image: web:2",
        "     deploy: { replicas: 2 }",
        "",
      ].join("\n"),
    );
  });

  it("copes with a file without a final newline", () => {
    const text = unifiedYamlDiff("s", { from: { n: 1, yaml: "a: 1" }, to: { n: 2, yaml: "a: 2" } });
    expect(text).toContain("-a: 1\n+a: 2\n");
    expect(text).not.toContain("No newline");
  });
});

describe("diffRange", () => {
  it("defaults to previous → current, and A → current", () => {
    expect(diffRange(5)).toEqual({ from: 4, to: 5 });
    expect(diffRange(5, 2)).toEqual({ from: 2, to: 5 });
    expect(diffRange(5, 2, 3)).toEqual({ from: 2, to: 3 });
  });

  it("refuses a stack with one revision", () => {
    expect(() => diffRange(1)).toThrow(/one revision/);
  });
});

describe("parseRevision", () => {
  it.each([
    ["3", 3],
    ["r3", 3],
    ["#12", 12],
  ])("%s is %d", (text, n) => {
    expect(parseRevision(text)).toBe(n);
  });

  it.each(["0", "-1", "1.5", "x", ""])("rejects %j", (text) => {
    expect(() => parseRevision(text)).toThrow(/not a revision number/);
  });
});
