import type { Command } from "commander";
import { printResult } from "../../lib/io.ts";
import { revokeJoinToken } from "../../lib/join-tokens.ts";
import { type Deps, openSession } from "../context.ts";

export function registerJoinTokenRevoke(joinToken: Command, deps: Deps): void {
  joinToken
    .command("revoke")
    .alias("rm")
    .summary("revoke a join token so no more hosts can join with it")
    .description("Revoke a join token. Hosts that already joined with it are not affected.")
    .argument("<id>", "join token ID, as `berth join-token ls` shows it (jt_...)")
    .addHelpText("after", "\nExample:\n  berth join-token revoke jt_7k2m9xq4d8hv3n6p")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const result = await revokeJoinToken(s.api, s.target, id);
      printResult(deps.io, s.flags.output, result, () => `Revoked join token ${id}\n`);
    });
}
