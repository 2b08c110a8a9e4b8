import type { Command } from "commander";
import { printResult } from "../../lib/io.ts";
import { renderPlan } from "../../lib/plan.ts";
import { type Deps, openSession } from "../context.ts";
import {
  type FileFlags,
  fileOption,
  nameOption,
  readStackFileFor,
  sendStackFile,
  teamOption,
} from "./shared.ts";

export const FILE_RULES = `
The stack file is Compose YAML with Swarm's deploy: section. As with Compose, \${VAR} takes its
value from the environment, then from the .env file beside the stack file; env_file: paths are
relative to the stack file. Only the variables and env files the stack uses are sent.`;

export function registerStackPlan(stack: Command, deps: Deps): void {
  stack
    .command("plan")
    .summary("show what deploying a stack file would change, without changing anything")
    .description(
      "Show, per service, what deploying the stack file would do: create it, change it (each field, from → to) or remove it, and how many tasks would start, restart or stop. Nothing is stored.",
    )
    .addOption(fileOption())
    .addOption(nameOption())
    .addOption(teamOption())
    .addHelpText(
      "after",
      `${FILE_RULES}

Examples:
  berth stack plan -f stack.yaml
  berth stack plan -f prod/stack.yaml --name shop --team web
  TAG=1.4.2 berth stack plan -f stack.yaml --output json`,
    )
    .action(async (flags: FileFlags, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const { payload } = await readStackFileFor(deps, s, flags);
      const planned = await sendStackFile(deps, s.target, payload, () =>
        s.api.stacks.plan.mutate({ team: flags.team, ...payload }),
      );
      printResult(deps.io, s.flags.output, planned, (p) => renderPlan(p.plan, { from: p.revision }));
    });
}
