import type { Command } from "commander";
import { parseDuration } from "../../lib/duration.ts";
import { parseFlag } from "../../lib/errors.ts";
import { renderPlan } from "../../lib/plan.ts";
import { type Deps, openSession } from "../context.ts";
import { FILE_RULES } from "./plan.ts";
import {
  currentTasks,
  detachOption,
  type FileFlags,
  fileOption,
  nameOption,
  readStackFileFor,
  reportAndFollow,
  sendStackFile,
  teamOption,
  timeoutOption,
} from "./shared.ts";

interface DeployFlags extends FileFlags {
  detach?: boolean;
  timeout: string;
}

export const FOLLOW_RULES = `
Without --detach it waits until every service runs its replicas, printing each task's changes,
and exits 0; an update that pauses or is rolled back, or --timeout passing first, exits 5
(the control plane carries on either way). Ctrl-C stops watching, not the deploy.`;

export function registerStackDeploy(stack: Command, deps: Deps): void {
  stack
    .command("deploy")
    .alias("up")
    .summary("deploy a stack file: store it as a new revision and apply it")
    .description(
      "Deploy the stack file: it is stored as a new, immutable revision of the stack (created if new), and the services are made to match it — new ones created, changed ones updated as their update_config says, missing ones removed.",
    )
    .addOption(fileOption())
    .addOption(nameOption())
    .addOption(teamOption())
    .addOption(detachOption())
    .addOption(timeoutOption())
    .addHelpText(
      "after",
      `${FILE_RULES}
${FOLLOW_RULES}

Examples:
  berth stack deploy -f stack.yaml
  berth stack deploy -f stack.yaml --detach
  TAG=1.4.2 berth stack deploy -f stack.yaml --timeout 10m`,
    )
    .action(async (flags: DeployFlags, cmd: Command) => {
      const timeoutMs = parseFlag("--timeout", flags.timeout, parseDuration);
      const s = await openSession(deps, cmd);
      const { payload, stack } = await readStackFileFor(deps, s, flags);
      const baseline = flags.detach || !stack ? [] : await currentTasks(s, flags.team, stack);
      const result = await sendStackFile(deps, s.target, payload, () =>
        s.api.stacks.deploy.mutate({ team: flags.team, ...payload }),
      );
      const name = result.plan.stack;
      const text = () =>
        `Deployed ${name} as revision ${result.revision}.\n\n${renderPlan(result.plan, {
          from: result.revision - 1,
          to: result.revision,
        })}`;
      await reportAndFollow(deps, s, {
        detach: flags.detach,
        result,
        text,
        follow: { team: flags.team, name, plan: result.plan, baseline, timeoutMs },
      });
    });
}
