import type { Command } from "commander";
import { call } from "../../lib/api.ts";
import { CliError, parseFlag } from "../../lib/errors.ts";
import { printResult } from "../../lib/io.ts";
import { diffRange, parseRevision, renderRevisionDiff, unifiedYamlDiff } from "../../lib/stack-diff.ts";
import { type Deps, openSession } from "../context.ts";
import { stackName, teamOption } from "./shared.ts";

const revision = (label: string) => (value: string) => parseFlag(label, value, parseRevision);

export function registerStackDiff(stack: Command, deps: Deps): void {
  stack
    .command("diff")
    .summary("show what changed between two revisions of a stack")
    .description(
      "Show what changed from revision A to revision B: per service, the fields (from → to) and the tasks that would restart, then a unified diff of the two YAML files. Without B, A is compared with the current revision; without either, the previous revision with the current one.",
    )
    .argument("<name>", "the stack", stackName)
    .argument("[a]", "the older revision", revision("A"))
    .argument("[b]", "the newer revision (default: the current one)", revision("B"))
    .addOption(teamOption())
    .addHelpText(
      "after",
      "\nExamples:\n  berth stack diff shop          # previous → current\n  berth stack diff shop 2 4\n  berth stack diff shop 2 -o json",
    )
    .action(
      async (
        name: string,
        a: number | undefined,
        b: number | undefined,
        flags: { team: string },
        cmd: Command,
      ) => {
        const s = await openSession(deps, cmd);
        let range: { from: number; to: number };
        if (a !== undefined && b !== undefined) range = { from: a, to: b };
        else {
          const history = await call(s.target, () => s.api.stacks.history.query({ team: flags.team, name }));
          const current = history.find((r) => r.current)?.n ?? history[0]?.n ?? 0;
          try {
            range = diffRange(current, a, b);
          } catch (err) {
            throw new CliError("FailedPrecondition", `${name}: ${(err as Error).message}`);
          }
        }
        const diff = await call(s.target, () =>
          s.api.stacks.diff.query({ team: flags.team, name, ...range }),
        );
        printResult(deps.io, s.flags.output, { ...diff, patch: unifiedYamlDiff(name, diff) }, (d) =>
          renderRevisionDiff(name, d),
        );
      },
    );
}
