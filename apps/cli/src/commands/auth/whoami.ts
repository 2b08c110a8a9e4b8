import type { Command } from "commander";
import { whoami } from "../../lib/auth.ts";
import { printResult } from "../../lib/io.ts";
import { type Deps, openSession } from "../context.ts";

export function registerWhoami(program: Command, deps: Deps): void {
  program
    .command("whoami")
    .summary("show who you are logged in as")
    .description("Show the user the API token belongs to, with their role and the server.")
    .addHelpText("after", "\nExamples:\n  berth whoami\n  berth whoami --output json")
    .action(async (_opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const me = await whoami(s.api, s.target);
      printResult(deps.io, s.flags.output, me, (r) => `${r.name} (${r.role}) on ${s.target.server}\n`);
    });
}
