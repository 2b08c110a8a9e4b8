import { spawn } from "node:child_process";

/** A program that failed: its argv, exit code (or signal) and the tail of its stderr. */
export class LabCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    super(
      `${argv.join(" ")}: ${signal ? `killed by ${signal}` : `exit code ${code}`}${stderrTail ? `: ${stderrTail}` : ""}`,
    );
    this.name = "LabCommandError";
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Killed with SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string | undefined>;
}

/** Run a program (argument array, never a shell string) and collect its output, whatever its exit code. */
export function run(argv: readonly string[], o: RunOptions = {}): Promise<RunResult> {
  const [program, ...args] = argv;
  if (!program) throw new Error("run: empty argv");
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      ...(o.env ? { env: o.env } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    if (o.input !== undefined) child.stdin?.end(o.input);
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new LabCommandError(argv, null, null, err.message));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Run a program that must succeed; throws LabCommandError otherwise. Returns its stdout. */
export async function must(argv: readonly string[], o: RunOptions = {}): Promise<string> {
  const result = await run(argv, o);
  if (result.code !== 0) {
    throw new LabCommandError(argv, result.code, result.signal, tail(result.stderr || result.stdout));
  }
  return result.stdout;
}

/** Run a program whose failure is expected and fine (deleting what may not exist); true when it worked. */
export async function attempt(argv: readonly string[], o: RunOptions = {}): Promise<boolean> {
  try {
    return (await run(argv, o)).code === 0;
  } catch {
    return false;
  }
}

export function tail(text: string, lines = 8): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}
