/**
 * What a simulated process does, decided from its command line: enough of
 * a shell for the commands tests and hollow hosts use — `true`, `false`,
 * `echo`, `printf`, `sleep N`, `exit N`, and `sh -c` scripts joining them
 * with `;`, `&&`, `||` and newlines, with `>&2` and `>/dev/null`. Anything
 * else (an unknown program, a loop, a pipe) runs until it is stopped — or,
 * for exec, fails as not found.
 */

export type SimStream = "stdout" | "stderr";

export type Step = { kind: "write"; stream: SimStream; text: string } | { kind: "sleep"; ms: number };

export interface Program {
  steps: Step[];
  /** Exit code after the steps; null: runs until stopped. */
  exit: number | null;
}

export type UnknownCommand = "runs-forever" | "not-found";

const SHELLS = new Set(["sh", "bash", "ash", "dash"]);
const UNSUPPORTED = new Set([
  "while",
  "until",
  "for",
  "if",
  "case",
  "{",
  "(",
  "trap",
  "read",
  "wait",
  "exec",
]);

export function programFor(argv: readonly string[], unknown: UnknownCommand = "runs-forever"): Program {
  const program: Program = { steps: [], exit: null };
  if (argv.length === 0) return program;
  const [first, second, script] = argv;
  if (SHELLS.has(basename(first!))) {
    if (second === "-c" && script !== undefined) return runScript(script, unknown);
    return program; // an interactive shell waits for input
  }
  const outcome = runCommand([...argv], "stdout", 0, program.steps, unknown);
  return {
    steps: program.steps,
    exit: outcome.kind === "status" ? outcome.status : outcome.kind === "exit" ? outcome.code : null,
  };
}

type Outcome = { kind: "status"; status: number } | { kind: "exit"; code: number } | { kind: "forever" };

function runCommand(
  words: string[],
  stream: SimStream | null,
  lastStatus: number,
  steps: Step[],
  unknown: UnknownCommand,
): Outcome {
  const [name = "", ...args] = words;
  const write = (text: string, to: SimStream | null = stream) => {
    if (to && text) steps.push({ kind: "write", stream: to, text });
  };
  switch (basename(name)) {
    case "true":
    case ":":
      return { kind: "status", status: 0 };
    case "false":
      return { kind: "status", status: 1 };
    case "echo": {
      const noNewline = args[0] === "-n";
      write(args.slice(noNewline ? 1 : 0).join(" ") + (noNewline ? "" : "\n"));
      return { kind: "status", status: 0 };
    }
    case "printf": {
      const [format = "", ...values] = args;
      write(unescapeFormat(format).replace(/%s/g, () => values.shift() ?? ""));
      return { kind: "status", status: 0 };
    }
    case "sleep":
      return sleep(args[0], steps, write);
    case "exit": {
      const code = args[0] === undefined ? lastStatus : Number(args[0]);
      return { kind: "exit", code: Number.isInteger(code) ? ((code % 256) + 256) % 256 : 2 };
    }
    default:
      if (unknown === "runs-forever") return { kind: "forever" };
      write(`sh: ${name}: not found\n`, "stderr");
      return { kind: "status", status: 127 };
  }
}

function sleep(
  arg: string | undefined,
  steps: Step[],
  write: (text: string, to: SimStream) => void,
): Outcome {
  if (arg === "infinity") return { kind: "forever" };
  const seconds = Number(arg);
  if (arg === undefined || !Number.isFinite(seconds) || seconds < 0) {
    write(`sleep: invalid number '${arg ?? ""}'\n`, "stderr");
    return { kind: "status", status: 1 };
  }
  steps.push({ kind: "sleep", ms: Math.round(seconds * 1000) });
  return { kind: "status", status: 0 };
}

function runScript(script: string, unknown: UnknownCommand): Program {
  const steps: Step[] = [];
  let status = 0;
  for (const statement of parseScript(script)) {
    if (statement.connector === "&&" && status !== 0) continue;
    if (statement.connector === "||" && status === 0) continue;
    if (statement.unsupported || UNSUPPORTED.has(statement.words[0] ?? "")) return { steps, exit: null };
    if (statement.words.length === 0) continue;
    const outcome = runCommand(statement.words, statement.stream, status, steps, unknown);
    if (outcome.kind === "forever") return { steps, exit: null };
    if (outcome.kind === "exit") return { steps, exit: outcome.code };
    status = outcome.status;
  }
  return { steps, exit: status };
}

interface Statement {
  connector: ";" | "&&" | "||";
  words: string[];
  /** Where stdout goes: `>&2` → stderr, `>/dev/null` or a file → nowhere. */
  stream: SimStream | null;
  unsupported: boolean;
}

/** Split a script into simple commands (quotes and backslashes honoured, no expansion). */
function parseScript(script: string): Statement[] {
  const statements: Statement[] = [];
  let current: Statement = { connector: ";", words: [], stream: "stdout", unsupported: false };
  let word: string | null = null;
  const endWord = () => {
    if (word !== null) current.words.push(word);
    word = null;
  };
  const endStatement = (connector: Statement["connector"]) => {
    endWord();
    statements.push(current);
    current = { connector, words: [], stream: "stdout", unsupported: false };
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    const rest = script.slice(i);
    if (c === "'" || c === '"') {
      const close = script.indexOf(c, i + 1);
      const end = close < 0 ? script.length : close;
      word =
        (word ?? "") +
        (c === '"' ? script.slice(i + 1, end).replace(/\\(["\\$`])/g, "$1") : script.slice(i + 1, end));
      i = end;
    } else if (c === "\\" && i + 1 < script.length) {
      word = (word ?? "") + script[++i];
    } else if (rest.startsWith("&&") || rest.startsWith("||")) {
      endStatement(rest.slice(0, 2) as "&&" | "||");
      i++;
    } else if (c === ";" || c === "\n") {
      endStatement(";");
    } else if (c === "|" || c === "&" || c === "`" || rest.startsWith("$(")) {
      current.unsupported = true;
    } else if (c === ">" || ((c === "1" || c === "2") && script[i + 1] === ">" && word === null)) {
      i = redirect(script, i, current);
    } else if (c === " " || c === "\t") {
      endWord();
    } else {
      word = (word ?? "") + c;
    }
  }
  endStatement(";");
  return statements.filter((s) => s.words.length > 0 || s.unsupported);
}

/** Parse a redirection at `i`; returns the index of its last character. */
function redirect(script: string, i: number, statement: Statement): number {
  const match = /^([12]?)>(&[12]|\s*[^\s;&|]+)/.exec(script.slice(i));
  if (!match) return i;
  const fd = match[1] === "2" ? 2 : 1;
  const target = match[2]!.trim();
  if (fd === 1) statement.stream = target === "&2" ? "stderr" : target === "&1" ? "stdout" : null;
  return i + match[0].length - 1;
}

function unescapeFormat(text: string): string {
  return text.replace(/\\([nt\\])/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : "\\"));
}

function basename(file: string): string {
  return file.slice(file.lastIndexOf("/") + 1);
}
