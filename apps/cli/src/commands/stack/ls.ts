import type { Command } from "commander";
import { call } from "../../lib/api.ts";
import { printResult } from "../../lib/io.ts";
import { stacksTable } from "../../lib/stacks.ts";
import { type Deps, openSession } from "../context.ts";
import { teamOption } from "./shared.ts";

export function registerStackLs(stack: Command, deps: Deps): void {
  stack
    .command("ls")
    .alias("list")
    .summary("list a team's stacks")
    .description(
      "List the team's stacks: current revision, services, tasks running of those wanted, last change.",
    )
    .addOption(teamOption())
    .addHelpText("after", "\nExamples:\n  berth stack ls\n  berth stack ls --team web --output json")
    .action(async (flags: { team: string }, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const stacks = await call(s.target, () => s.api.stacks.list.query({ team: flags.team }));
      printResult(deps.io, s.flags.output, stacks, (rows) => {
        if (rows.length === 0)
          deps.io.stderr("berth: no stacks yet; deploy one with `berth stack deploy -f FILE`\n");
        return stacksTable(rows, deps.now());
      });
    });
}
