import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { SpecIssue } from "./errors.ts";
import type { SpecWarning } from "./model.ts";
import { parseStack } from "./parse.ts";

/**
 * Fixtures as files: valid/X.yaml parses to exactly valid/X.expected.json;
 * invalid/X.yaml and compose/X.yaml list their expected outcome in
 * X.expected.txt — `ok` then one `warning LINE:COL text` per warning, or one
 * `KIND LINE:COL text` per issue (`-` for no position), text being a part of
 * the message. BERTH_UPDATE_FIXTURES=1 rewrites the valid/*.expected.json.
 */
const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "__fixtures__");
const VARIABLES = { TAG: "2.1", REGION: "eu-1", FROM_SHELL: "from-the-shell" };

function yamlFiles(folder: string): string[] {
  return readdirSync(path.join(DIR, folder))
    .filter((f) => f.endsWith(".yaml"))
    .sort();
}

function parseFixture(folder: string, file: string) {
  const source = readFileSync(path.join(DIR, folder, file), "utf8");
  return parseStack(source, {
    name: path.basename(file, ".yaml"),
    variables: VARIABLES,
    readFile: (p) => {
      const full = path.join(DIR, folder, p);
      return existsSync(full) ? readFileSync(full, "utf8") : undefined;
    },
  });
}

interface Expected {
  kind: string;
  at: string;
  text: string;
}

function readExpected(folder: string, file: string): { ok: boolean; lines: Expected[] } {
  const text = readFileSync(path.join(DIR, folder, file.replace(/\.yaml$/, ".expected.txt")), "utf8");
  const rows = text.split("\n").filter((l) => l.trim() !== "");
  const ok = rows[0] === "ok";
  const lines = (ok ? rows.slice(1) : rows).map((row) => {
    const [kind = "", at = "", ...rest] = row.split(" ");
    return { kind, at, text: rest.join(" ") };
  });
  return { ok, lines };
}

function position(p: { line?: number; column?: number }): string {
  return p.line ? `${p.line}:${p.column}` : "-";
}

function matches(
  actual: (SpecIssue | SpecWarning)[],
  expected: Expected[],
  kindOf: (a: SpecIssue | SpecWarning) => string,
) {
  expect(
    actual.map((a) => `${kindOf(a)} ${position(a)} ${a.message}`),
    "number of issues/warnings",
  ).toHaveLength(expected.length);
  for (const e of expected) {
    const found = actual.find(
      (a) => kindOf(a) === e.kind && position(a) === e.at && a.message.includes(e.text),
    );
    expect(
      found,
      `expected ${e.kind} at ${e.at} containing "${e.text}" among\n${actual.map((a) => `${kindOf(a)} ${position(a)} ${a.message}`).join("\n")}`,
    ).toBeDefined();
  }
}

describe("valid stack files", () => {
  for (const file of yamlFiles("valid")) {
    it(`${file} parses to its expected spec`, () => {
      const r = parseFixture("valid", file);
      if (!r.ok) throw new Error(r.issues.map((i) => `${position(i)} ${i.message}`).join("\n"));
      const expectedFile = path.join(DIR, "valid", file.replace(/\.yaml$/, ".expected.json"));
      if (process.env.BERTH_UPDATE_FIXTURES === "1")
        writeFileSync(expectedFile, `${JSON.stringify(r.spec, null, 2)}\n`);
      expect(r.spec).toEqual(JSON.parse(readFileSync(expectedFile, "utf8")));
    });
  }
});

describe("invalid stack files", () => {
  for (const file of yamlFiles("invalid")) {
    it(`${file} is refused with the expected issues`, () => {
      const r = parseFixture("invalid", file);
      const expected = readExpected("invalid", file);
      expect(r.ok).toBe(false);
      if (!r.ok) matches(r.issues, expected.lines, (a) => (a as SpecIssue).kind);
    });
  }
});

describe("real Compose files", () => {
  for (const file of yamlFiles("compose")) {
    it(`${file} deploys or names what is unsupported`, () => {
      const r = parseFixture("compose", file);
      const expected = readExpected("compose", file);
      expect(r.ok).toBe(expected.ok);
      if (r.ok) matches(r.warnings, expected.lines, () => "warning");
      else matches(r.issues, expected.lines, (a) => (a as SpecIssue).kind);
    });
  }
});
