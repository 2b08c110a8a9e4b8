import type { CliEnv } from "../env.ts";
import type { Target } from "./api.ts";
import type { Config } from "./config.ts";
import { CliError, UsageError } from "./errors.ts";

export type ServerSource = "--server" | "BERTH_SERVER" | "config";

/** The server to talk to: --server, else BERTH_SERVER, else the one `berth login` stored. */
export function resolveServer(
  flag: string | undefined,
  env: CliEnv,
  config: Config,
): { server: string; source: ServerSource } | null {
  if (flag) return { server: flag, source: "--server" };
  if (env.server) return { server: env.server, source: "BERTH_SERVER" };
  if (config.server) return { server: config.server, source: "config" };
  return null;
}

/**
 * Server and token for an authenticated call. BERTH_TOKEN wins; the stored
 * token is sent only to the server it was issued by, never to another one.
 */
export function resolveTarget(flag: string | undefined, env: CliEnv, config: Config): Target {
  const found = resolveServer(flag, env, config);
  if (!found) {
    throw new CliError("Unauthenticated", "not logged in", {
      hint: "run `berth login --server URL` (or set BERTH_SERVER and BERTH_TOKEN)",
    });
  }
  const { server, source } = found;
  if (env.token) return { server, token: env.token, tokenSource: "BERTH_TOKEN" };
  if (config.token && config.server === server) return { server, token: config.token, tokenSource: "config" };
  const elsewhere = config.token && config.server ? ` (you are logged in to ${config.server})` : "";
  const login = source === "--server" ? `berth login --server ${server}` : "berth login";
  throw new CliError("Unauthenticated", `not logged in to ${server}${elsewhere}`, {
    hint: `run \`${login}\``,
  });
}

/** The server `berth login` logs in to; it is the one place a server must be given explicitly. */
export function loginServer(flag: string | undefined, env: CliEnv, config: Config): string {
  const found = resolveServer(flag, env, config);
  if (!found) {
    throw new UsageError("which control plane? pass --server URL or set BERTH_SERVER", {
      hint: "e.g. `berth login --server http://localhost:3000`",
    });
  }
  return found.server;
}
