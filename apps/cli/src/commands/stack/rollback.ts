import type { Command } from "commander";
import { call } from "../../lib/api.ts";
import { parseDuration } from "../../lib/duration.ts";
import { parseFlag } from "../../lib/errors.ts";
import { renderPlan } from "../../lib/plan.ts";
import { parseRevision } from "../../lib/stack-diff.ts";
import { type Deps, openSession } from "../context.ts";
import { FOLLOW_RULES } from "./deploy.ts";
import {
  currentTasks,
  detachOption,
  reportAndFollow,
  stackName,
  teamOption,
  timeoutOption,
} from "./shared.ts";

interface RollbackFlags {
  team: string;
  to?: string;
  detach?: boolean;
  timeout: string;
}

export function registerStackRollback(stack: Command, deps: Deps): void {
  stack
    .command("rollback")
    .summary("restore an earlier revision of the whole stack")
    .description(
      "Restore an earlier revision of the whole stack — every service's image, configuration and environment together — as a new revision. Without --to, the revision before the current one.",
    )
    .argument("<name>", "the stack", stackName)
    .option("--to <revision>", "the revision to restore (`berth stack history` lists them)")
    .addOption(teamOption())
    .addOption(detachOption())
    .addOption(timeoutOption())
    .addHelpText(
      "after",
      `${FOLLOW_RULES}\n\nExamples:\n  berth stack rollback shop\n  berth stack rollback shop --to 3 --detach`,
    )
    .action(async (name: string, flags: RollbackFlags, cmd: Command) => {
      const to = flags.to === undefined ? undefined : parseFlag("--to", flags.to, parseRevision);
      const timeoutMs = parseFlag("--timeout", flags.timeout, parseDuration);
      const s = await openSession(deps, cmd);
      const baseline = flags.detach ? [] : await currentTasks(s, flags.team, name);
      const result = await call(s.target, () =>
        s.api.stacks.rollback.mutate({ team: flags.team, name, ...(to ? { to } : {}) }),
      );
      const text = () =>
        `Rolled ${name} back: revision ${result.revision} restores revision ${to ?? result.revision - 2}.\n\n${renderPlan(
          result.plan,
          { from: result.revision - 1, to: result.revision },
        )}`;
      await reportAndFollow(deps, s, {
        detach: flags.detach,
        result,
        text,
        follow: { team: flags.team, name, plan: result.plan, baseline, timeoutMs },
      });
    });
}
