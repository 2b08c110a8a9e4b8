import { describe, expect, it } from "vitest";
import { diffLines, diffStats, foldUnchanged, splitLines } from "./line-diff.ts";

const render = (before: string, after: string) =>
  diffLines(before, after).map((l) => `${l.kind === "same" ? " " : l.kind === "add" ? "+" : "-"}${l.text}`);

describe("line diff", () => {
  it("splits text into lines, a final newline ending the last line", () => {
    expect(splitLines("")).toEqual([]);
    expect(splitLines("a\nb\n")).toEqual(["a", "b"]);
    expect(splitLines("a\r\nb")).toEqual(["a", "b"]);
  });

  it("marks a changed line as removed then added, keeping the rest", () => {
    expect(render("a\nb\nc\n", "a\nB\nc\n")).toEqual([" a", "-b", "+B", " c"]);
  });

  it("finds insertions and removals in the middle", () => {
    expect(render("a\nb\nc\nd\n", "a\nc\nx\nd\n")).toEqual([" a", "-b", " c", "+x", " d"]);
  });

  it("numbers lines on each side", () => {
    const lines = diffLines("a\nb\n", "x\na\nb\n");
    expect(lines[0]).toEqual({ kind: "add", text: "x", newNo: 1 });
    expect(lines[2]).toEqual({ kind: "same", text: "b", oldNo: 2, newNo: 3 });
  });

  it("treats everything as added against an empty text, and counts", () => {
    const lines = diffLines("", "a\nb\n");
    expect(lines.every((l) => l.kind === "add")).toBe(true);
    expect(diffStats(lines)).toEqual({ added: 2, removed: 0 });
    expect(diffStats(diffLines("a\nb", "a\nc"))).toEqual({ added: 1, removed: 1 });
  });

  it("keeps every line of both texts, in order", () => {
    const before = "x\ny\nz\nx\ny\n";
    const after = "y\nx\nz\nz\ny\nq\n";
    const lines = diffLines(before, after);
    const old = lines.filter((l) => l.kind !== "add").map((l) => l.text);
    const next = lines.filter((l) => l.kind !== "del").map((l) => l.text);
    expect(old).toEqual(splitLines(before));
    expect(next).toEqual(splitLines(after));
  });

  it("folds long unchanged runs around a change into a skip row", () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join("\n");
    const after = before.replace("l10", "L10");
    const rows = foldUnchanged(diffLines(before, after), 2);
    expect(rows.map((r) => (r.kind === "skip" ? `…${r.count}` : r.kind))).toEqual([
      "…8",
      "same",
      "same",
      "del",
      "add",
      "same",
      "same",
      "…7",
    ]);
  });

  it("folds nothing when there is no change", () => {
    const rows = foldUnchanged(diffLines("a\nb\n", "a\nb\n"));
    expect(rows.map((r) => r.kind)).toEqual(["same", "same"]);
  });
});
