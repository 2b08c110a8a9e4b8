import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const AGENT_BIN = path.join(ROOT, "agents/agent/dist/berth-agent.js");
export const SERVER_BIN = path.join(ROOT, "apps/web/dist/server.js");
export const CLI_BIN = path.join(ROOT, "apps/cli/dist/berth.js");

/** Build an app's bundle through Turborepo (cached) when it is missing, e.g. when one test file runs alone. */
export function ensureBuilt(bin: string, filter: string): void {
  if (existsSync(bin)) return;
  execFileSync(path.join(ROOT, "node_modules/.bin/turbo"), ["run", "build", `--filter=${filter}`], {
    cwd: ROOT,
    stdio: "inherit",
  });
}

export interface Child {
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start a process whose stdout and stderr are kept for failure messages. */
export function start(args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d) => (out += d));
  proc.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    exited,
    async kill(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
