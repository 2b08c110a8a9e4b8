import type { Command } from "commander";
import { printResult } from "../../lib/io.ts";
import { joinTokensTable, listJoinTokens } from "../../lib/join-tokens.ts";
import { type Deps, openSession } from "../context.ts";

export function registerJoinTokenLs(joinToken: Command, deps: Deps): void {
  joinToken
    .command("ls")
    .alias("list")
    .summary("list join tokens")
    .description(
      "List join tokens, newest first, with their status (active, used, expired or revoked). The tokens themselves are never shown again after `create`.",
    )
    .addHelpText("after", "\nExamples:\n  berth join-token ls\n  berth join-token ls --output json")
    .action(async (_opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const tokens = await listJoinTokens(s.api, s.target);
      printResult(deps.io, s.flags.output, tokens, (t) => {
        if (t.length === 0)
          deps.io.stderr("berth: no join tokens yet; create one with `berth join-token create`\n");
        return joinTokensTable(t, deps.now());
      });
    });
}
