import { createTwoFilesPatch } from "diff";
import { renderPlan } from "./plan.ts";
import type { RevisionDiff } from "./stacks.ts";
import { printable } from "./table.ts";

/** Which revisions `berth stack diff NAME [A [B]]` compares: A → B, A → current, or previous → current. */
export function diffRange(current: number, a?: number, b?: number): { from: number; to: number } {
  if (a !== undefined && b !== undefined) return { from: a, to: b };
  if (a !== undefined) return { from: a, to: current };
  if (current < 2) throw new Error("the stack has one revision: there is nothing to compare it with");
  return { from: current - 1, to: current };
}

/** A revision number as given on the command line: a positive integer, optionally written rN or #N. */
export function parseRevision(text: string): number {
  const m = /^(?:r|#)?(\d{1,9})$/i.exec(text.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!Number.isInteger(n) || n < 1) throw new Error(`"${text}" is not a revision number (1, 2, …)`);
  return n;
}

/** The stored YAML of two revisions as a unified diff (3 lines of context), headed `name@A` and `name@B`. */
export function unifiedYamlDiff(name: string, diff: Pick<RevisionDiff, "from" | "to">): string {
  const withNewline = (text: string) => (text.endsWith("\n") ? text : `${text}\n`);
  const patch = createTwoFilesPatch(
    `${name}@${diff.from.n}`,
    `${name}@${diff.to.n}`,
    withNewline(diff.from.yaml),
    withNewline(diff.to.yaml),
    undefined,
    undefined,
    { context: 3 },
  );
  // Drop the "====" underline: the rest is what `diff -u` and `git diff` print.
  return patch
    .split("\n")
    .filter((line) => !/^=+$/.test(line))
    .map(printable)
    .join("\n");
}

/** `berth stack diff` as text: the field-level plan from A to B, then the YAML diff. */
export function renderRevisionDiff(name: string, diff: RevisionDiff): string {
  const plan = renderPlan(diff.plan, { from: diff.from.n, to: diff.to.n });
  const yaml = diff.from.yaml === diff.to.yaml ? "The YAML is identical.\n" : unifiedYamlDiff(name, diff);
  return `${plan}\n${yaml}`;
}
