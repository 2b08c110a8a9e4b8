import type { Command } from "commander";
import { forgetLogin } from "../../lib/auth.ts";
import { readConfig } from "../../lib/config.ts";
import { printResult } from "../../lib/io.ts";
import { type Deps, globalFlags } from "../context.ts";

export function registerLogout(program: Command, deps: Deps): void {
  program
    .command("logout")
    .summary("revoke and forget the stored API token")
    .description(
      "Revoke the API token `berth login` stored on the control plane, and remove it from the config file. The server URL is kept, so the next `berth login` needs no --server. BERTH_TOKEN, when set, is not affected.",
    )
    .addHelpText("after", "\nExample:\n  berth logout")
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = globalFlags(cmd);
      const env = deps.loadEnv();
      const config = await readConfig(env.configPath);
      const api =
        config.server && config.token ? deps.createApi({ server: config.server, token: config.token }) : null;
      const outcome = await forgetLogin(api, env.configPath, config);
      const result = { server: config.server ?? null, username: config.username ?? null, ...outcome };
      if (outcome.revokeError) {
        deps.io.stderr(
          `berth: note: the token was forgotten here but not revoked on the server: ${outcome.revokeError}\n`,
        );
      }
      if (env.token) deps.io.stderr("berth: note: BERTH_TOKEN is still set, and commands keep using it\n");
      printResult(deps.io, flags.output, result, (r) =>
        r.loggedOut
          ? `Logged out${r.username ? ` ${r.username}` : ""} from ${r.server ?? "the control plane"}\n`
          : "Not logged in; nothing to do\n",
      );
    });
}
