import type { Command } from "commander";
import { findHost, hostDetails } from "../../lib/hosts.ts";
import { printResult } from "../../lib/io.ts";
import { type Deps, openSession } from "../context.ts";

export function registerHostsInspect(hosts: Command, deps: Deps): void {
  hosts
    .command("inspect")
    .summary("show one host in detail")
    .description("Show one host: its facts (OS, kernel, cgroups, runtime, CNI plugins) and recent events.")
    .argument("<host>", "host ID or name, as `berth hosts ls` shows them")
    .addHelpText(
      "after",
      "\nExamples:\n  berth hosts inspect host_7k2m9xq4d8hv3n6p\n  berth hosts inspect web-1 --output json",
    )
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const detail = await findHost(s.api, s.target, ref);
      printResult(deps.io, s.flags.output, detail, (d) => hostDetails(d, deps.now()));
    });
}
