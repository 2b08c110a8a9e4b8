import { execFile } from "node:child_process";
import { BerthError } from "@berth/protocol";

const STDERR_TAIL_CHARS = 2000;

/** A program that failed to run, exited non-zero or timed out. */
export class ExecError extends BerthError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderrTail: string;

  constructor(argv: readonly string[], exitCode: number | null, stderr: string, cause: unknown) {
    const tail = stderr.trim().slice(-STDERR_TAIL_CHARS);
    const why = exitCode === null ? (cause as Error).message : `exit code ${exitCode}`;
    super("Internal", `${argv.join(" ")} failed (${why})${tail ? `: ${tail}` : ""}`, { cause });
    this.name = "ExecError";
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderrTail = tail;
  }
}

export interface RunOptions {
  timeoutMs?: number;
  maxBufferBytes?: number;
}

/** Run a program with an argument array (never a shell), returning its stdout. */
export function runProgram(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const { timeoutMs = 5000, maxBufferBytes = 1024 * 1024 } = options;
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: maxBufferBytes, encoding: "utf8", windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = typeof err.code === "number" ? err.code : null;
        reject(new ExecError([file, ...args], code, stderr, err));
      },
    );
  });
}
