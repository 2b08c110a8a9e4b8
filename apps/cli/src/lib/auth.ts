import type { RouterOutputs } from "@berth/web/router";
import { type Api, call, type Target } from "./api.ts";
import { type Config, writeConfig } from "./config.ts";
import { CliError } from "./errors.ts";

export type Whoami = RouterOutputs["auth"]["whoami"];

const MAX_TOKEN_NAME = 100;

/** The API token's name, so `berth login` tokens can be told apart: `cli@<hostname>`. */
export function tokenName(hostname: string): string {
  return `cli@${hostname || "unknown"}`.slice(0, MAX_TOKEN_NAME);
}

/**
 * Exchange a user name and password for an API token and store it (with the
 * server and user name) in the config file. Returns what was stored.
 */
export async function loginWithPassword(
  api: Api,
  input: { server: string; username: string; password: string; hostname: string; configPath: string },
) {
  const target: Target = { server: input.server };
  let created: RouterOutputs["auth"]["createTokenWithPassword"];
  try {
    created = await call(target, () =>
      api.auth.createTokenWithPassword.mutate({
        username: input.username,
        password: input.password,
        name: tokenName(input.hostname),
      }),
    );
  } catch (err) {
    // The server's "wrong username or password" needs no "run berth login" hint: this is it.
    if (err instanceof CliError && err.code === "Unauthenticated") {
      throw new CliError("Unauthenticated", err.message, { cause: err });
    }
    throw err;
  }
  const config: Config = { server: input.server, username: input.username, token: created.token };
  await writeConfig(input.configPath, config);
  return {
    server: input.server,
    username: input.username,
    tokenId: created.id,
    expiresAt: created.expiresAt,
  };
}

/**
 * Revoke the stored token on the server, then forget it (the server is kept,
 * so the next `berth login` needs no --server). The token is forgotten even
 * when the server cannot be reached or no longer knows it; `revoked` says
 * whether the server confirmed.
 */
export async function forgetLogin(
  api: Api | null,
  configPath: string,
  config: Config,
): Promise<{ loggedOut: boolean; revoked: boolean; revokeError: string | null }> {
  if (!config.token) return { loggedOut: false, revoked: false, revokeError: null };
  let revoked = false;
  let revokeError: string | null = null;
  if (api && config.server) {
    try {
      await call({ server: config.server, token: config.token, tokenSource: "config" }, () =>
        api.auth.revokeToken.mutate({}),
      );
      revoked = true;
    } catch (err) {
      revokeError = err instanceof Error ? err.message : String(err);
    }
  }
  await writeConfig(configPath, { server: config.server });
  return { loggedOut: true, revoked, revokeError };
}

export function whoami(api: Api, target: Target): Promise<Whoami> {
  return call(target, () => api.auth.whoami.query());
}
