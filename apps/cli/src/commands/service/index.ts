import type { Command } from "commander";
import type { Deps } from "../context.ts";
import { PS_HELP, printTasks } from "../stack/ps.ts";
import { stackName, teamOption } from "../stack/shared.ts";
import { registerServiceScale } from "./scale.ts";

export function registerService(program: Command, deps: Deps): void {
  const service = program
    .command("service")
    .alias("services")
    .summary("scale the services of a stack and list their tasks")
    .description(
      "A service is one entry under services: in a stack file, run as replicas (tasks) across the fleet.",
    )
    .addHelpText("after", "\nExamples:\n  berth service scale shop web=5\n  berth service ps shop web");
  registerServiceScale(service, deps);
  service
    .command("ps")
    .summary("list the tasks of a service")
    .description("List the tasks of one service of a stack: where each runs and what state it is in.")
    .argument("<stack>", "the stack", stackName)
    .argument("<service>", "the service")
    .option("-a, --all", "also tasks that ended (exited, failed, lost, shut down)")
    .addOption(teamOption())
    .addHelpText(
      "after",
      `${PS_HELP}\n\nExamples:\n  berth service ps shop web\n  berth service ps shop web --all`,
    )
    .action((stack: string, name: string, flags: { team: string; all?: boolean }, cmd: Command) =>
      printTasks(deps, cmd, stack, { ...flags, service: name }),
    );
}
