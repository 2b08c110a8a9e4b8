import type { Command } from "commander";
import type { Deps } from "../context.ts";
import { registerHostsInspect } from "./inspect.ts";
import { registerHostsLs } from "./ls.ts";

export function registerHosts(program: Command, deps: Deps): void {
  const hosts = program
    .command("hosts")
    .summary("list and inspect the hosts in the fleet")
    .description("The machines that joined this control plane with `berth-agent`.")
    .addHelpText("after", "\nExamples:\n  berth hosts ls\n  berth hosts inspect web-1");
  registerHostsLs(hosts, deps);
  registerHostsInspect(hosts, deps);
}
