import type { Command } from "commander";
import { call } from "../../lib/api.ts";
import { parseFlag } from "../../lib/errors.ts";
import { printResult } from "../../lib/io.ts";
import { checkName, tasksTable } from "../../lib/stacks.ts";
import { type Deps, openSession } from "../context.ts";
import { stackName, teamOption } from "./shared.ts";

interface PsFlags {
  team: string;
  all?: boolean;
  service?: string;
}

/** The tasks of a stack, or of one of its services: shared by `stack ps` and `service ps`. */
export async function printTasks(deps: Deps, cmd: Command, name: string, flags: PsFlags): Promise<void> {
  const service =
    flags.service === undefined
      ? undefined
      : parseFlag("SERVICE", flags.service, (v) => checkName("service", v));
  const s = await openSession(deps, cmd);
  const tasks = await call(s.target, () =>
    s.api.stacks.tasks.query({
      team: flags.team,
      name,
      all: Boolean(flags.all),
      ...(service ? { service } : {}),
    }),
  );
  printResult(deps.io, s.flags.output, tasks, (rows) => tasksTable(rows, deps.now()));
}

export const PS_HELP = `
Columns: ID, NAME (service.slot), IMAGE, HOST, DESIRED (running or shutdown), OBSERVED (what the
host reported, and when), REASON (why: no host can run it, an exit code, a failed health check …)
and AGE.`;

export function registerStackPs(stack: Command, deps: Deps): void {
  stack
    .command("ps")
    .summary("list the tasks of a stack")
    .description("List the tasks of a stack, one per replica: where each runs and what state it is in.")
    .argument("<name>", "the stack", stackName)
    .option("-a, --all", "also tasks that ended (exited, failed, lost, shut down)")
    .option("-s, --service <service>", "only this service's tasks")
    .addOption(teamOption())
    .addHelpText(
      "after",
      `${PS_HELP}\n\nExamples:\n  berth stack ps shop\n  berth stack ps shop --service web --all\n  berth stack ps shop -o json`,
    )
    .action((name: string, flags: PsFlags, cmd: Command) => printTasks(deps, cmd, name, flags));
}
