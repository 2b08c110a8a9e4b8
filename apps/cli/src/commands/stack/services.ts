import type { Command } from "commander";
import { call } from "../../lib/api.ts";
import { printResult } from "../../lib/io.ts";
import { servicesTable } from "../../lib/stacks.ts";
import { type Deps, openSession } from "../context.ts";
import { stackName, teamOption } from "./shared.ts";

export function registerStackServices(stack: Command, deps: Deps): void {
  stack
    .command("services")
    .summary("list the services of a stack")
    .description(
      "List the services of a stack: mode, replicas running of those wanted, image, published ports, generation and any update in progress.",
    )
    .argument("<name>", "the stack", stackName)
    .addOption(teamOption())
    .addHelpText("after", "\nExamples:\n  berth stack services shop\n  berth stack services shop -o json")
    .action(async (name: string, flags: { team: string }, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const detail = await call(s.target, () => s.api.stacks.get.query({ team: flags.team, name }));
      printResult(deps.io, s.flags.output, detail.stack.services, servicesTable);
    });
}
