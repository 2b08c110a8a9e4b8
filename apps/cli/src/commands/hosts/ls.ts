import type { Command } from "commander";
import { HOST_COLUMNS, hostsTable, listHosts } from "../../lib/hosts.ts";
import { printResult } from "../../lib/io.ts";
import { formatTable } from "../../lib/table.ts";
import { type Deps, openSession } from "../context.ts";

export function registerHostsLs(hosts: Command, deps: Deps): void {
  hosts
    .command("ls")
    .alias("list")
    .summary("list hosts")
    .description(
      "List the hosts that joined this control plane: state, resources, container runtime, agent version and when the control plane last heard from them.",
    )
    .addHelpText("after", "\nExamples:\n  berth hosts ls\n  berth hosts ls --output json")
    .action(async (_opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const rows = await listHosts(s.api, s.target);
      printResult(deps.io, s.flags.output, rows, (r) => {
        if (r.length > 0) return hostsTable(r, deps.now());
        deps.io.stderr("berth: no hosts yet; add one with `berth join-token create`\n");
        return formatTable(HOST_COLUMNS, []);
      });
    });
}
