import os from "node:os";
import path from "node:path";
import * as z from "zod/mini";
import { CliError } from "./lib/errors.ts";
import { normaliseServerUrl } from "./lib/server-url.ts";

// zod/mini: the CLI bundles its dependencies, and the full zod is five times larger.
const variable = z.optional(z.string({ error: "must be a string" }));

const envSchema = z.object({
  /** Control-plane URL; `--server` overrides it, and it overrides the stored one. */
  BERTH_SERVER: variable,
  /** API token; overrides the one `berth login` stored. */
  BERTH_TOKEN: variable,
  /** Config file path. */
  BERTH_CONFIG: variable,
  XDG_CONFIG_HOME: variable,
  /** The berth-agent executable `berth pull|push|images|build` run (default: berth-agent on PATH). */
  BERTH_AGENT_BIN: variable,
  PATH: variable,
});

export interface CliEnv {
  server?: string;
  token?: string;
  /** Where `berth login` stores the server, user name and token. */
  configPath: string;
  /** BERTH_AGENT_BIN: the local agent's executable, when given. */
  agentBin?: string;
  /** PATH's directories, to find berth-agent. */
  path: string[];
  /**
   * The whole environment, for ${VAR} interpolation in stack files (as Compose
   * takes it from the shell). Only the variables a file uses are sent.
   */
  variables: Record<string, string>;
}

/** The config file: $XDG_CONFIG_HOME/berth/config.json, else ~/.config/berth/config.json. */
export function defaultConfigPath(xdgConfigHome: string | undefined, home: string): string {
  const base = xdgConfigHome && path.isAbsolute(xdgConfigHome) ? xdgConfigHome : path.join(home, ".config");
  return path.join(base, "berth", "config.json");
}

/** An unset variable and an empty one mean the same: not given. */
function given(value: string | undefined): string | undefined {
  return value?.trim() ? value : undefined;
}

/**
 * Read and validate the CLI's environment. The only place in the CLI that
 * reads `process.env`; everything else receives a `CliEnv`.
 */
export function loadEnv(
  source: Record<string, string | undefined> = process.env,
  home = os.homedir(),
): CliEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new CliError("InvalidArgument", `invalid environment: ${issues.join("; ")}`);
  }
  const e = parsed.data;
  let server = given(e.BERTH_SERVER);
  if (server) {
    try {
      server = normaliseServerUrl(server);
    } catch (err) {
      throw new CliError("InvalidArgument", `invalid environment: BERTH_SERVER: ${(err as Error).message}`);
    }
  }
  const configFile = given(e.BERTH_CONFIG);
  return {
    server,
    token: given(e.BERTH_TOKEN)?.trim(),
    configPath: configFile ? path.resolve(configFile) : defaultConfigPath(given(e.XDG_CONFIG_HOME), home),
    agentBin: given(e.BERTH_AGENT_BIN),
    path: (e.PATH ?? "").split(path.delimiter).filter((dir) => dir !== ""),
    variables: Object.fromEntries(
      Object.entries(source).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
    ),
  };
}

/** The environment for the local agent the CLI runs: the CLI's own plus `extra`. */
export function agentEnvironment(extra: Record<string, string>): Record<string, string | undefined> {
  return { ...process.env, ...extra };
}
