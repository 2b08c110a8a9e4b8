import { type ChildProcess, spawn } from "node:child_process";

/** A child process of the test, with the tail of its output kept for failure messages. */
export interface TestProcess {
  name: string;
  child: ChildProcess;
  /** The last lines of stdout and stderr, interleaved. */
  output(): string;
  /** Resolves with the time (Date.now()) the first output line matching `pattern` arrived. */
  waitForLine(pattern: RegExp, what: string, timeoutMs: number): Promise<number>;
  running(): boolean;
  /** Signal it and wait for it to exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const KEEP_LINES = 200;

/** Run `node <args>` with the given environment. */
export function startNode(
  name: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): TestProcess {
  const child = spawn(process.execPath, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > KEEP_LINES) lines.shift();
      for (const w of watchers) w(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const output = () => lines.join("\n");

  return {
    name,
    child,
    output,
    running,
    waitForLine(pattern, what, timeoutMs) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(Date.now());
      return new Promise<number>((resolve, reject) => {
        const done = (err: Error | null) => {
          clearTimeout(timer);
          watchers.delete(watcher);
          child.off("exit", onExit);
          if (err) reject(err);
          else resolve(Date.now());
        };
        const watcher = (line: string) => {
          if (pattern.test(line)) done(null);
        };
        const onExit = () =>
          done(new Error(`${name} exited while waiting for ${what}; its output:\n${output()}`));
        const timer = setTimeout(
          () =>
            done(
              new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${name} output:\n${output()}`),
            ),
          timeoutMs,
        );
        watchers.add(watcher);
        child.once("exit", onExit);
      });
    },
    async stop(signal = "SIGTERM", graceMs = 10_000) {
      if (!running()) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export { freePort } from "../support/ports.ts";

/** Poll `check` until it returns true; the timeout names what it waited for. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The environment of a child: ours minus any Berth setting, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("BERTH_") && k !== "DATABASE_URL" && k !== "PORT" && k !== "HOST") env[k] = v;
  }
  return { ...env, ...extra };
}
