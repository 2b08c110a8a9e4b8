import { spawn } from "node:child_process";
import { ExecError, runProgram } from "../../exec.ts";

/** A thin wrapper over the runc binary: argument arrays, structured errors. */
export interface Runc {
  readonly binary: string;
  readonly root: string;
  start(id: string): Promise<void>;
  kill(id: string, signal: string, all?: boolean): Promise<void>;
  /** Forcefully delete; a container runc does not know is not an error. */
  delete(id: string): Promise<void>;
  state(id: string): Promise<{ status: string; pid: number } | null>;
  /** argv for `runc exec` (run by the caller so it can wire stdio). */
  execArgs(
    id: string,
    options: { args: string[]; env: string[]; user?: string; cwd?: string; tty: boolean },
  ): string[];
}

const NOT_FOUND = /does not exist|not found|container .* is not running/i;

export function createRunc(binary: string, root: string): Runc {
  const base = ["--root", root];
  const run = (args: string[], timeoutMs = 30_000) => runProgram(binary, [...base, ...args], { timeoutMs });
  return {
    binary,
    root,
    async start(id) {
      await run(["start", id]);
    },
    async kill(id, signal, all = false) {
      await run(["kill", ...(all ? ["--all"] : []), id, signal]);
    },
    async delete(id) {
      try {
        await run(["delete", "--force", id]);
      } catch (err) {
        if (err instanceof ExecError && NOT_FOUND.test(err.stderrTail)) return;
        throw err;
      }
    },
    async state(id) {
      try {
        const out = await run(["state", id], 10_000);
        const parsed = JSON.parse(out) as { status: string; pid: number };
        return { status: parsed.status, pid: parsed.pid };
      } catch (err) {
        if (err instanceof ExecError && NOT_FOUND.test(err.stderrTail)) return null;
        throw err;
      }
    },
    execArgs(id, o) {
      const args = [...base, "exec"];
      if (o.tty) args.push("--tty");
      for (const e of o.env) args.push("--env", e);
      if (o.user) args.push("--user", o.user);
      if (o.cwd) args.push("--cwd", o.cwd);
      return [...args, id, ...o.args];
    },
  };
}

/** Spawn `runc exec` and resolve with its exit code (the command's, or 126/127 from runc). */
export function spawnExec(
  binary: string,
  args: string[],
  stdio:
    | "inherit"
    | { stdin?: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      stdio: stdio === "inherit" ? "inherit" : [stdio.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    if (stdio !== "inherit") {
      if (stdio.stdin && child.stdin) stdio.stdin.pipe(child.stdin);
      child.stdout?.pipe(stdio.stdout, { end: false });
      child.stderr?.pipe(stdio.stderr, { end: false });
    }
    child.once("error", reject);
    child.once("close", (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const n = (
    { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGUSR1: 10, SIGUSR2: 12 } as Record<
      string,
      number
    >
  )[signal];
  return n ?? 0;
}
