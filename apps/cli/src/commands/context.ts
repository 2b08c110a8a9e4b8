import type { Command } from "commander";
import type { CliEnv } from "../env.ts";
import type { AgentProgram, AgentRun } from "../lib/agent.ts";
import type { Api, Target } from "../lib/api.ts";
import { type Config, readConfig } from "../lib/config.ts";
import { parseFlag } from "../lib/errors.ts";
import type { Interrupts } from "../lib/interrupt.ts";
import type { CliIo, OutputFormat } from "../lib/io.ts";
import { normaliseServerUrl } from "../lib/server-url.ts";
import { resolveTarget } from "../lib/session.ts";

/** Everything a command touches outside its arguments; tests replace any of it. */
export interface Deps {
  io: CliIo;
  loadEnv(): CliEnv;
  now(): number;
  hostname(): string;
  createApi(target: Target): Api;
  /** The local agent (default: findAgent). */
  findAgent?(env: CliEnv): AgentProgram;
  /** Runs the local agent, resolving to its exit code (default: runAgentProcess). */
  runAgent?(run: AgentRun): Promise<number>;
  /** Ctrl-C for commands that follow something (default: SIGINT). */
  interrupts?(): Interrupts;
  /** The directory relative paths are taken from (default: process.cwd()). */
  cwd?(): string;
  /** How often following commands poll, in ms (default 1000; tests go faster). */
  pollIntervalMs?: number;
}

/** The options every command accepts (they are defined once, on the program). */
export interface GlobalFlags {
  /** Normalised --server, when given. */
  server: string | undefined;
  output: OutputFormat;
}

export function globalFlags(cmd: Command): GlobalFlags {
  const opts = cmd.optsWithGlobals<{ server?: string; output?: OutputFormat }>();
  return {
    server: opts.server === undefined ? undefined : parseFlag("--server", opts.server, normaliseServerUrl),
    output: opts.output ?? "text",
  };
}

export interface Session {
  flags: GlobalFlags;
  env: CliEnv;
  config: Config;
  target: Target;
  api: Api;
}

/** Flags, environment and stored login, resolved into a server, a token and a client. */
export async function openSession(deps: Deps, cmd: Command): Promise<Session> {
  const flags = globalFlags(cmd);
  const env = deps.loadEnv();
  const config = await readConfig(env.configPath);
  const target = resolveTarget(flags.server, env, config);
  return { flags, env, config, target, api: deps.createApi(target) };
}
