import { describe, expect, it } from "vitest";
import { createIgnoreMatcher, parseDockerignore } from "./dockerignore.ts";

const matcher = (text: string) => createIgnoreMatcher(parseDockerignore(text));

describe(".dockerignore (Docker's patternmatcher semantics)", () => {
  it("skips comments and blank lines", () => {
    expect(parseDockerignore("# comment\n\n  node_modules  \n!keep\n")).toEqual(["node_modules", "!keep"]);
  });

  it.each([
    // pattern, path, ignored
    ["node_modules", "node_modules", true],
    ["node_modules", "node_modules/a/b.js", true], // a parent directory matches
    ["node_modules", "src/node_modules", false], // patterns are anchored at the root
    ["/build", "build/x", true],
    ["./build/", "build/x", true],
    ["*.log", "app.log", true],
    ["*.log", "logs/app.log", false], // * does not cross "/"
    ["*/*.log", "logs/app.log", true],
    ["**/*.log", "app.log", true],
    ["**/*.log", "a/b/c/app.log", true],
    ["a/**/z", "a/z", true],
    ["a/**/z", "a/b/c/z", true],
    ["a/**", "a/b/c", true],
    ["?.txt", "a.txt", true],
    ["?.txt", "ab.txt", false],
    ["[a-c].txt", "b.txt", true],
    ["[^a-c].txt", "b.txt", false],
    ["[!a-c].txt", "d.txt", true],
    ["\\*.txt", "*.txt", true],
    ["\\*.txt", "a.txt", false],
    ["docs/*.md", "docs/sub/x.md", false],
  ])("%s ignores %s: %s", (pattern, file, ignored) => {
    expect(matcher(pattern).ignores(file)).toBe(ignored);
  });

  it("the last matching pattern wins; ! brings a path back", () => {
    const m = matcher("*.md\n!README.md\nREADME*.md\n!README-keep.md");
    expect(m.ignores("CHANGES.md")).toBe(true);
    expect(m.ignores("README.md")).toBe(true); // ignored again by README*.md
    expect(m.ignores("README-keep.md")).toBe(false);
    expect(m.hasExceptions).toBe(true);
  });

  it("an exception inside an ignored directory", () => {
    const m = matcher("vendor\n!vendor/keep.txt");
    expect(m.ignores("vendor/other.txt")).toBe(true);
    expect(m.ignores("vendor/keep.txt")).toBe(false);
  });

  it("refuses a lone ! and an unclosed class", () => {
    expect(() => matcher("!")).toThrow(/needs a pattern/);
    expect(() => matcher("[abc")).toThrow(/unclosed \[/);
  });
});
