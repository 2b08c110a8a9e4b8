import type { Command } from "commander";
import { parseFlag, UsageError } from "../../lib/errors.ts";
import { printResult } from "../../lib/io.ts";
import {
  createdText,
  createJoinToken,
  MAX_USES,
  parseMaxUses,
  parseTtlSeconds,
} from "../../lib/join-tokens.ts";
import { type Deps, openSession } from "../context.ts";

interface CreateFlags {
  description?: string;
  ttl: string;
  uses: string;
}

const MAX_DESCRIPTION = 200;

export function registerJoinTokenCreate(joinToken: Command, deps: Deps): void {
  joinToken
    .command("create")
    .summary("create a join token and print the command that joins a host")
    .description(
      "Create a join token. The token is printed once, with the exact `berth-agent` command to run on the new host; only its hash is kept by the control plane.",
    )
    .option("-d, --description <text>", "a note on what the token is for, shown by ls")
    .option("--ttl <duration>", "how long it stays valid, e.g. 30m, 24h, 7d (at most 30d)", "24h")
    .option("--uses <n>", `how many hosts may join with it, 1 to ${MAX_USES}`, "1")
    .addHelpText(
      "after",
      `
Examples:
  berth join-token create
  berth join-token create --description "rack 4" --ttl 2h --uses 10
  TOKEN=$(berth join-token create --output json | jq -r .token)`,
    )
    .action(async (opts: CreateFlags, cmd: Command) => {
      const ttlSeconds = parseFlag("--ttl", opts.ttl, parseTtlSeconds);
      const maxUses = parseFlag("--uses", opts.uses, parseMaxUses);
      if (opts.description !== undefined && opts.description.length > MAX_DESCRIPTION) {
        throw new UsageError(
          `--description: at most ${MAX_DESCRIPTION} characters (got ${opts.description.length})`,
        );
      }
      const s = await openSession(deps, cmd);
      const created = await createJoinToken(s.api, s.target, {
        description: opts.description,
        ttlSeconds,
        maxUses,
      });
      printResult(deps.io, s.flags.output, created, (c) => createdText(c, s.target.server, deps.now()));
    });
}
