import type { Command } from "commander";
import { findHost, setAvailability } from "../../lib/hosts.ts";
import { printResult } from "../../lib/io.ts";
import { type Deps, openSession } from "../context.ts";

export function registerHostsAvailability(hosts: Command, deps: Deps): void {
  hosts
    .command("drain")
    .summary("move a host's tasks to other hosts and place nothing new on it")
    .description(
      "Drain a host: its tasks are shut down and replaced on other hosts, and no new task is placed on it, until `berth host activate`. It stays drained across restarts. Needs the admin role.",
    )
    .argument("<host>", "host ID or name, as `berth hosts ls` shows them")
    .addHelpText("after", "\nExamples:\n  berth host drain web-1\n  berth host activate web-1")
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const { host } = await findHost(s.api, s.target, ref);
      const result = await setAvailability(s.api, s.target, host.id, "drain");
      printResult(
        deps.io,
        s.flags.output,
        { ...result, name: host.name },
        () =>
          `Draining ${host.name} (${host.id}): its tasks move to other hosts; \`berth host activate ${host.name}\` undoes it\n`,
      );
    });

  hosts
    .command("activate")
    .summary("let tasks be placed on a drained host again")
    .description(
      "Make a drained host active: new tasks may be placed on it again. Tasks that moved away stay where they are. Needs the admin role.",
    )
    .argument("<host>", "host ID or name, as `berth hosts ls` shows them")
    .addHelpText("after", "\nExample:\n  berth host activate web-1")
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const { host } = await findHost(s.api, s.target, ref);
      const result = await setAvailability(s.api, s.target, host.id, "active");
      printResult(
        deps.io,
        s.flags.output,
        { ...result, name: host.name },
        () => `${host.name} (${host.id}) is active\n`,
      );
    });
}
