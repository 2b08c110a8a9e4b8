import type { Command } from "commander";
import type { Deps } from "../context.ts";
import { registerJoinTokenCreate } from "./create.ts";
import { registerJoinTokenLs } from "./ls.ts";
import { registerJoinTokenRevoke } from "./revoke.ts";

export function registerJoinToken(program: Command, deps: Deps): void {
  const joinToken = program
    .command("join-token")
    .summary("create, list and revoke tokens that let new hosts join")
    .description(
      "A join token lets `berth-agent` on a new host join this control plane. It works a limited number of times (default once) until it expires (default 24h). Needs the owner or admin role.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  berth join-token create --description 'rack 4' --ttl 1h\n  berth join-token ls\n  berth join-token revoke jt_7k2m9xq4d8hv3n6p",
    );
  registerJoinTokenCreate(joinToken, deps);
  registerJoinTokenLs(joinToken, deps);
  registerJoinTokenRevoke(joinToken, deps);
}
