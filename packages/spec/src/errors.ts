/**
 * Why a stack file was refused. Each issue says where (a path into the
 * document and, when the YAML has it, the line and column, 1-based) and what
 * to do about it. The control plane turns a SpecError into InvalidArgument;
 * the CLI prints one issue per line as `file:line:column: message`.
 */
export type SpecIssueKind =
  /** Not YAML, or YAML that breaks a rule of YAML itself (duplicate key, bad alias). */
  | "syntax"
  /** A bound was exceeded: document size, nesting, aliases. */
  | "limit"
  /** A key that is not part of the format at this place. */
  | "unknown-key"
  /** A Compose key Berth knows but does not support (yet). */
  | "unsupported"
  /** A value of the wrong shape or out of range. */
  | "invalid";

export interface SpecIssue {
  kind: SpecIssueKind;
  path: (string | number)[];
  line?: number;
  column?: number;
  message: string;
}

export class SpecError extends Error {
  readonly issues: SpecIssue[];

  constructor(issues: SpecIssue[], fileName = "stack file") {
    super(formatIssues(issues, fileName));
    this.name = "SpecError";
    this.issues = issues;
  }
}

export function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

export function formatIssue(issue: SpecIssue, fileName = "stack file"): string {
  const where = issue.line ? `${fileName}:${issue.line}:${issue.column ?? 1}` : fileName;
  const at = issue.path.length > 0 ? ` ${formatPath(issue.path)}:` : "";
  return `${where}:${at} ${issue.message}`;
}

export function formatIssues(issues: SpecIssue[], fileName?: string): string {
  return issues.map((i) => formatIssue(i, fileName)).join("\n");
}
