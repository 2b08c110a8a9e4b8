import type { Command } from "commander";
import { call } from "../../lib/api.ts";
import { CliError, UsageError } from "../../lib/errors.ts";
import { printResult } from "../../lib/io.ts";
import { needsStacks, parseScaleArgs, type ScaleTarget } from "../../lib/scale.ts";
import { checkName, type Deployed } from "../../lib/stacks.ts";
import { type Deps, openSession } from "../context.ts";
import { teamOption } from "../stack/shared.ts";

function scaledText(results: ReadonlyArray<{ target: ScaleTarget; result: Deployed }>): string {
  return results
    .map(({ target, result }) => {
      const plan = result.plan.services.find((s) => s.name === target.service);
      const change = plan ? ` (${plan.replicas.from} → ${plan.replicas.to})` : "";
      return `${target.stack}: ${target.service} scaled to ${target.replicas}${change}, revision ${result.revision}\n`;
    })
    .join("");
}

export function registerServiceScale(service: Command, deps: Deps): void {
  service
    .command("scale")
    .summary("set how many replicas services run")
    .description(
      "Set the replicas of one or more services of a stack. Each change is a new revision of the stack whose YAML differs only in that service's deploy.replicas.",
    )
    .argument(
      "<args...>",
      "STACK SERVICE=REPLICAS [SERVICE=REPLICAS…], or STACK_SERVICE=REPLICAS… as Docker writes it",
    )
    .addOption(teamOption())
    .addHelpText(
      "after",
      "\nExamples:\n  berth service scale shop web=5\n  berth service scale shop web=5 worker=0\n  berth service scale shop_web=5",
    )
    .action(async (args: string[], flags: { team: string }, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const stacks = needsStacks(args)
        ? await call(s.target, () => s.api.stacks.list.query({ team: flags.team }))
        : undefined;
      let targets: ScaleTarget[];
      try {
        targets = parseScaleArgs(args, stacks);
        for (const t of targets) {
          checkName("stack", t.stack);
          checkName("service", t.service);
        }
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new UsageError((err as Error).message, { hint: "see `berth service scale --help`" });
      }
      const results: Array<{ target: ScaleTarget; result: Deployed }> = [];
      for (const target of targets) {
        const result = await call(s.target, () =>
          s.api.stacks.scale.mutate({
            team: flags.team,
            name: target.stack,
            service: target.service,
            replicas: target.replicas,
          }),
        );
        results.push({ target, result });
      }
      printResult(
        deps.io,
        s.flags.output,
        results.map(({ target, result }) => ({ ...target, ...result })),
        () => scaledText(results),
      );
    });
}
