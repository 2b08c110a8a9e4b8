// What `berth pull|push|images|build` share: the local agent, its state directory, and the Berth
// registry's credentials for images on the server the CLI is logged in to.
import type { Command } from "commander";
import { type AgentRun, findAgent, runAgentProcess } from "../../lib/agent.ts";
import { whoami } from "../../lib/auth.ts";
import { readConfig } from "../../lib/config.ts";
import { CliError, ExitStatus } from "../../lib/errors.ts";
import { isLoopback, qualify, registryHost, registryOf } from "../../lib/image-ref.ts";
import { resolveServer, resolveTarget } from "../../lib/session.ts";
import { type Deps, globalFlags } from "../context.ts";

export interface LocalFlags {
  agentStateDir?: string;
}

/** The Berth server (if any) and what it means for the registries a command touches. */
export interface RegistryContext {
  /** The Berth server's registry host, or null when no server is known. */
  berthRegistry: string | null;
  /** `ref` with the Berth registry in front of a short name; Unauthenticated when no server is known. */
  qualify(ref: string): string;
  /** Flags and environment that let the agent reach `registry` (credentials for the Berth registry). */
  access(registry: string | null): Promise<{ args: string[]; env: Record<string, string> }>;
}

export async function registryContext(deps: Deps, cmd: Command): Promise<RegistryContext> {
  const flags = globalFlags(cmd);
  const env = deps.loadEnv();
  const config = await readConfig(env.configPath);
  const server = resolveServer(flags.server, env, config)?.server ?? null;
  const berthRegistry = server === null ? null : registryHost(server);
  return {
    berthRegistry,
    qualify(ref) {
      if (berthRegistry === null && registryOf(ref) === null) {
        throw new CliError(
          "Unauthenticated",
          `"${ref}" names no registry, so it is on the Berth server's registry, and no server is known`,
          { hint: "run `berth login --server URL`, or name the registry (docker.io/library/busybox)" },
        );
      }
      return berthRegistry === null ? ref : qualify(ref, berthRegistry);
    },
    async access(registry): Promise<{ args: string[]; env: Record<string, string> }> {
      if (server === null || registry === null || registry !== berthRegistry) return { args: [], env: {} };
      const target = resolveTarget(flags.server, env, config);
      const username =
        target.tokenSource === "config" && config.username
          ? config.username
          : (await whoami(deps.createApi(target), target)).name;
      const insecure = new URL(server).protocol === "http:" && !isLoopback(registry);
      return {
        args: insecure ? ["--insecure-registry", registry] : [],
        env: { BERTH_REGISTRY_CREDS: `${registry}=${username}:${target.token}` },
      };
    },
  };
}

/** The agent's global arguments (they go before its command). */
export function agentGlobals(flags: LocalFlags): string[] {
  return flags.agentStateDir ? ["--state-dir", flags.agentStateDir] : [];
}

/** Runs the local agent; a non-zero exit (the agent said why on stderr) becomes the CLI's. */
export async function runLocalAgent(
  deps: Deps,
  args: string[],
  env: Record<string, string> = {},
): Promise<void> {
  const program = (deps.findAgent ?? findAgent)(deps.loadEnv());
  const run: AgentRun = { program, args, env };
  const code = await (deps.runAgent ?? runAgentProcess)(run);
  if (code !== 0) throw new ExitStatus(code);
}

export const STATE_DIR_HELP =
  "the local agent's state directory (default: BERTH_AGENT_STATE_DIR, else the agent's /var/lib/berth/agent)";
