import type { Command } from "commander";
import { parseFlag } from "../../lib/errors.ts";
import { findHost, labelsText, parseLabelArgs, setLabels } from "../../lib/hosts.ts";
import { printResult } from "../../lib/io.ts";
import { type Deps, openSession } from "../context.ts";

export function registerHostsLabel(hosts: Command, deps: Deps): void {
  hosts
    .command("label")
    .summary("set or remove labels of a host")
    .description(
      "Set (KEY=VALUE) or remove (KEY-) labels of a host. Placement constraints in stack files read them as node.labels.KEY. Needs the admin role.",
    )
    .argument("<host>", "host ID or name, as `berth hosts ls` shows them")
    .argument("<labels...>", "KEY=VALUE to set, KEY- to remove")
    .addHelpText(
      "after",
      '\nExamples:\n  berth host label web-1 zone=eu-1 ssd=true\n  berth host label web-1 ssd-\n\nIn a stack file:\n  deploy: { placement: { constraints: ["node.labels.zone == eu-1"] } }',
    )
    .action(async (ref: string, args: string[], _opts: unknown, cmd: Command) => {
      const changes = parseFlag("LABELS", args.join(" "), () => parseLabelArgs(args));
      const s = await openSession(deps, cmd);
      const { host } = await findHost(s.api, s.target, ref);
      const result = await setLabels(s.api, s.target, host.id, changes);
      printResult(
        deps.io,
        s.flags.output,
        { ...result, name: host.name },
        (r) => `${host.name} (${host.id}) labels: ${labelsText(r.labels)}\n`,
      );
    });
}
