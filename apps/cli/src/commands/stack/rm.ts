import type { Command } from "commander";
import { call } from "../../lib/api.ts";
import { printResult } from "../../lib/io.ts";
import { confirmRemoval } from "../../lib/prompt.ts";
import { type Deps, openSession } from "../context.ts";
import { stackName, teamOption } from "./shared.ts";

interface RmFlags {
  team: string;
  yes?: boolean;
}

export function registerStackRm(stack: Command, deps: Deps): void {
  stack
    .command("rm")
    .alias("remove")
    .summary("remove a stack with its services and tasks")
    .description(
      "Remove a stack: its services and tasks go, and the hosts stop their containers. Its revisions go too. Asks first, unless --yes; without a terminal, --yes is required.",
    )
    .argument("<name>", "the stack", stackName)
    .option("-y, --yes", "do not ask")
    .addOption(teamOption())
    .addHelpText("after", "\nExamples:\n  berth stack rm shop\n  berth stack rm shop --yes")
    .action(async (name: string, flags: RmFlags, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const go = await confirmRemoval(deps.io, {
        yes: flags.yes,
        what: name,
        // Says what would go (and that the stack exists) before asking.
        question: async () => {
          const detail = await call(s.target, () => s.api.stacks.get.query({ team: flags.team, name }));
          return `Remove stack ${name} (${detail.stack.services.length} services, ${detail.tasks.length} tasks)? [y/N] `;
        },
      });
      if (!go) return;
      const result = await call(s.target, () => s.api.stacks.remove.mutate({ team: flags.team, name }));
      printResult(deps.io, s.flags.output, result, () => `Removed stack ${name}\n`);
    });
}
