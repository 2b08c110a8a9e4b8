// Running the local agent (`berth-agent`) for `berth pull|push|images|build`, as the docker CLI
// drives dockerd: same arguments, stdio passed through, its exit code passed back.
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { agentEnvironment, type CliEnv } from "../env.ts";
import { CliError } from "./errors.ts";

export const AGENT_NAME = "berth-agent";
/** Where the repository's build puts the agent, relative to the repository root. */
const REPO_AGENT = path.join("agents", "agent", "dist", "berth-agent.js");

/** How to start the agent: a program and the arguments before the agent's own. */
export interface AgentProgram {
  file: string;
  prefix: string[];
  /** For messages: where it was found. */
  source: "BERTH_AGENT_BIN" | "PATH" | "repository";
}

export interface AgentRun {
  program: AgentProgram;
  args: string[];
  /** Variables added to the CLI's environment (credentials go here, never in argv). */
  env: Record<string, string>;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A JavaScript file runs under this Node; anything else is executed itself. */
function programFor(file: string, source: AgentProgram["source"]): AgentProgram {
  return /\.[cm]?js$/.test(file)
    ? { file: process.execPath, prefix: [file], source }
    : { file, prefix: [], source };
}

/** The repository's built agent beside this CLI (dist/berth.js or src/lib/agent.ts), if there is one. */
function repositoryAgent(from: string): string | null {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, REPO_AGENT);
    if (isFile(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

/**
 * The local agent: BERTH_AGENT_BIN, else `berth-agent` on PATH, else the repository's
 * agents/agent/dist/berth-agent.js next to this CLI.
 */
export function findAgent(
  env: Pick<CliEnv, "agentBin" | "path">,
  here = path.dirname(fileURLToPath(import.meta.url)),
): AgentProgram {
  if (env.agentBin) {
    const file = path.resolve(env.agentBin);
    if (!isFile(file)) {
      throw new CliError("FailedPrecondition", `BERTH_AGENT_BIN=${env.agentBin} is not a file`, {
        hint: "point it at the berth-agent executable (agents/agent/dist/berth-agent.js in a checkout)",
      });
    }
    return programFor(file, "BERTH_AGENT_BIN");
  }
  for (const dir of env.path) {
    const file = path.join(dir, AGENT_NAME);
    if (isExecutableFile(file)) return programFor(file, "PATH");
  }
  const built = repositoryAgent(here);
  if (built) return programFor(built, "repository");
  throw new CliError("FailedPrecondition", "no berth-agent found on this host", {
    hint:
      "install berth-agent on PATH, set BERTH_AGENT_BIN=/path/to/berth-agent, " +
      "or build it in a checkout: npx turbo run build --filter=@berth/agent",
  });
}

/** Runs the agent with stdio passed through; resolves to its exit code (128 + signal when killed). */
export function runAgentProcess(run: AgentRun): Promise<number> {
  // Ctrl-C reaches the agent too (same process group): wait for it and pass on its exit code.
  const ignore = () => {};
  process.on("SIGINT", ignore);
  return new Promise<number>((resolve, reject) => {
    const child = spawn(run.program.file, [...run.program.prefix, ...run.args], {
      stdio: "inherit",
      env: agentEnvironment(run.env),
    });
    child.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        new CliError("FailedPrecondition", `cannot run ${run.program.file}: ${err.code ?? err.message}`, {
          hint: "check BERTH_AGENT_BIN, or that berth-agent on PATH is executable",
          cause: err,
        }),
      );
    });
    child.once("exit", (code, signal) => {
      if (code !== null) return resolve(code);
      const signals: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };
      resolve(128 + (signal ? (signals[signal] ?? 1) : 1));
    });
  }).finally(() => process.off("SIGINT", ignore));
}
