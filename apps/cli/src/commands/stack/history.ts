import type { Command } from "commander";
import { call } from "../../lib/api.ts";
import { printResult } from "../../lib/io.ts";
import { historyTable } from "../../lib/stacks.ts";
import { type Deps, openSession } from "../context.ts";
import { stackName, teamOption } from "./shared.ts";

export function registerStackHistory(stack: Command, deps: Deps): void {
  stack
    .command("history")
    .summary("list a stack's revisions")
    .description(
      "List a stack's revisions, newest first. Every deploy, scale and rollback stores one, never changed afterwards; the current one is marked *.",
    )
    .argument("<name>", "the stack", stackName)
    .addOption(teamOption())
    .addHelpText(
      "after",
      "\nExamples:\n  berth stack history shop\n  berth stack diff shop 3 4\n  berth stack rollback shop --to 3",
    )
    .action(async (name: string, flags: { team: string }, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const revisions = await call(s.target, () => s.api.stacks.history.query({ team: flags.team, name }));
      printResult(deps.io, s.flags.output, revisions, (rows) => historyTable(rows, deps.now()));
    });
}
