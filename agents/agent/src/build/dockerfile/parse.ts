import { BerthError } from "@berth/protocol";

/**
 * Dockerfile syntax (no meaning yet): parser directives, comments, line
 * continuations, one node per instruction with its flags and its arguments
 * in JSON ("exec") or shell form. Pure; errors name file:line.
 */

export interface Directives {
  /** `# syntax=…` (recorded, not acted on: the builder is always Berth's). */
  syntax?: string;
  /** The escape character: `\` (default) or a backtick. */
  escape: "\\" | "`";
}

export interface InstructionNode {
  /** Lower-case keyword: "from", "run", … */
  keyword: string;
  /** `--name=value` flags before the arguments, in order. */
  flags: string[];
  /** The arguments after the flags, continuation lines joined, unprocessed. */
  rest: string;
  /** The JSON array when the arguments are one ("exec form"), else null. */
  json: string[] | null;
  /** The instruction as written, continuation lines joined. */
  original: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface ParsedDockerfile {
  file: string;
  directives: Directives;
  instructions: InstructionNode[];
}

export function dockerfileError(file: string, line: number, message: string): BerthError {
  return new BerthError("InvalidArgument", `${file}:${line}: ${message}`);
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
/** Keywords whose arguments may be a JSON array. */
const JSON_FORM = new Set(["run", "cmd", "entrypoint", "shell", "copy", "add", "volume"]);
/** Keywords that take `--flag` options. */
const TAKES_FLAGS = new Set(["from", "run", "copy", "add", "healthcheck"]);
const HEREDOC = /(^|\s)<<-?\s*["']?[A-Za-z_][A-Za-z0-9_]*["']?/;

function readDirectives(lines: string[], file: string): { directives: Directives; start: number } {
  const directives: Directives = { escape: "\\" };
  const seen = new Set<string>();
  let i = 0;
  for (; i < lines.length; i += 1) {
    const match = DIRECTIVE.exec(lines[i]!.trim());
    if (!match) break;
    const name = match[1]!.toLowerCase();
    const value = match[2]!;
    if (name !== "syntax" && name !== "escape" && name !== "check") break;
    if (seen.has(name)) throw dockerfileError(file, i + 1, `parser directive "${name}" given twice`);
    seen.add(name);
    if (name === "escape") {
      if (value !== "\\" && value !== "`") {
        throw dockerfileError(file, i + 1, `invalid escape character ${JSON.stringify(value)}: use \\ or \``);
      }
      directives.escape = value;
    } else if (name === "syntax") directives.syntax = value;
  }
  return { directives, start: i };
}

/** Docker's rule: an escape character followed only by spaces or tabs continues the line. */
function continues(line: string, escapeChar: string): boolean {
  return new RegExp(`${escapeChar === "\\" ? "\\\\" : "`"}[ \t]*$`).test(line);
}

/** The line without its continuation mark (whitespace before the mark stays, as in Docker). */
function stripContinuation(line: string, escapeChar: string): string {
  return line.slice(0, line.replace(/[ \t]*$/, "").length - escapeChar.length);
}

/** Split off leading `--flag[=value]` words. */
function splitFlags(text: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let rest = text;
  for (;;) {
    const match = /^--[A-Za-z][A-Za-z0-9-]*(=("[^"]*"|'[^']*'|\S)*)?(\s+|$)/.exec(rest);
    if (!match) break;
    flags.push(match[0].trim());
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

function parseJsonArray(text: string): string[] | null {
  if (!text.startsWith("[")) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  } catch {}
  return null;
}

function makeNode(file: string, line: number, text: string): InstructionNode {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text.trim())!;
  const keyword = match[1]!.toLowerCase();
  let rest = match[2]!.trim();
  let flags: string[] = [];
  if (TAKES_FLAGS.has(keyword)) ({ flags, rest } = splitFlags(rest));
  rest = rest.trim();
  const json = JSON_FORM.has(keyword) ? parseJsonArray(rest) : null;
  if (json === null && (keyword === "run" || keyword === "copy" || keyword === "add") && HEREDOC.test(rest)) {
    throw dockerfileError(file, line, `heredocs (<<EOF) are not supported in ${keyword.toUpperCase()}`);
  }
  return { keyword, flags, rest, json, original: text.trim(), line };
}

/** Parse a Dockerfile's text. `file` is only used in error messages. */
export function parseDockerfile(text: string, file = "Dockerfile"): ParsedDockerfile {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const { directives, start } = readDirectives(lines, file);
  const escapeChar = directives.escape;
  const instructions: InstructionNode[] = [];
  let pending: string[] | null = null;
  let pendingLine = 0;
  for (let i = start; i < lines.length; i += 1) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    // Comment lines are dropped, even inside a continued instruction; so are empty ones there.
    if (trimmed.startsWith("#")) continue;
    if (trimmed === "") continue;
    if (pending === null) {
      pending = [];
      pendingLine = i + 1;
    }
    // Continuation lines keep their leading whitespace and are joined with nothing between.
    const text = pending.length === 0 ? raw.trimStart() : raw;
    if (continues(raw, escapeChar)) {
      pending.push(stripContinuation(text, escapeChar));
      continue;
    }
    pending.push(text);
    instructions.push(makeNode(file, pendingLine, pending.join("")));
    pending = null;
  }
  if (pending !== null && pending.join("").trim() !== "") {
    instructions.push(makeNode(file, pendingLine, pending.join("")));
  }
  return { file, directives, instructions };
}
