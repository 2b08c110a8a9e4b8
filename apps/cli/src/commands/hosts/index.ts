import type { Command } from "commander";
import type { Deps } from "../context.ts";
import { registerHostsAvailability } from "./drain.ts";
import { registerHostsInspect } from "./inspect.ts";
import { registerHostsLabel } from "./label.ts";
import { registerHostsLs } from "./ls.ts";

export function registerHosts(program: Command, deps: Deps): void {
  const hosts = program
    .command("hosts")
    .alias("host")
    .summary("list, inspect, drain and label the hosts in the fleet")
    .description(
      "The machines that joined this control plane with `berth-agent`. `berth host` is the same command.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  berth hosts ls\n  berth hosts inspect web-1\n  berth host drain web-1\n  berth host label web-1 zone=eu-1",
    );
  registerHostsLs(hosts, deps);
  registerHostsInspect(hosts, deps);
  registerHostsAvailability(hosts, deps);
  registerHostsLabel(hosts, deps);
}
