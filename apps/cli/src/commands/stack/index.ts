import type { Command } from "commander";
import type { Deps } from "../context.ts";
import { registerStackDeploy } from "./deploy.ts";
import { registerStackDiff } from "./diff.ts";
import { registerStackHistory } from "./history.ts";
import { registerStackLs } from "./ls.ts";
import { registerStackPlan } from "./plan.ts";
import { registerStackPs } from "./ps.ts";
import { registerStackRm } from "./rm.ts";
import { registerStackRollback } from "./rollback.ts";
import { registerStackServices } from "./services.ts";

export function registerStack(program: Command, deps: Deps): void {
  const stack = program
    .command("stack")
    .alias("stacks")
    .summary("plan, deploy, inspect, roll back and remove stacks")
    .description(
      "A stack is a team's set of services, described by one stack file (Compose YAML with Swarm's deploy: section) and run across the fleet. Every deploy, scale or rollback stores an immutable revision.",
    )
    .addHelpText(
      "after",
      `
Examples:
  berth stack plan -f stack.yaml
  berth stack deploy -f stack.yaml
  berth stack ps shop
  berth stack history shop && berth stack diff shop 1 2
  berth stack rollback shop --to 1
  berth stack rm shop --yes`,
    );
  registerStackLs(stack, deps);
  registerStackPlan(stack, deps);
  registerStackDeploy(stack, deps);
  registerStackPs(stack, deps);
  registerStackServices(stack, deps);
  registerStackHistory(stack, deps);
  registerStackDiff(stack, deps);
  registerStackRollback(stack, deps);
  registerStackRm(stack, deps);
}
