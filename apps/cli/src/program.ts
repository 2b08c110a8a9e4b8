import os from "node:os";
import { ERROR_CODES, EXIT_CODES } from "@berth/protocol/errors";
import { Command, CommanderError, Help, Option } from "commander";
import { registerLogin } from "./commands/auth/login.ts";
import { registerLogout } from "./commands/auth/logout.ts";
import { registerWhoami } from "./commands/auth/whoami.ts";
import type { Deps } from "./commands/context.ts";
import { registerEvents } from "./commands/events/index.ts";
import { registerHosts } from "./commands/hosts/index.ts";
import { registerImageCommands } from "./commands/images/index.ts";
import { registerJoinToken } from "./commands/join-token/index.ts";
import { registerService } from "./commands/service/index.ts";
import { registerStack } from "./commands/stack/index.ts";
import { registerTeam } from "./commands/team/index.ts";
import { registerUser } from "./commands/user/index.ts";
import { loadEnv } from "./env.ts";
import { createApi } from "./lib/api.ts";
import { describeError, ExitStatus, errorLine, USAGE_EXIT_CODE } from "./lib/errors.ts";
import { OUTPUT_FORMATS, processIo } from "./lib/io.ts";
import { CLI_VERSION } from "./version.ts";

const EXIT_CODE_WORDS: Record<(typeof ERROR_CODES)[number], string> = {
  InvalidArgument: "invalid argument",
  NotFound: "not found",
  Conflict: "conflict",
  FailedPrecondition: "failed precondition",
  Unauthenticated: "not logged in",
  PermissionDenied: "permission denied",
  Unavailable: "control plane unreachable",
  Internal: "internal error",
};

const exitCodes = [...ERROR_CODES]
  .sort((a, b) => EXIT_CODES[a] - EXIT_CODES[b])
  .map((code) => `${EXIT_CODES[code]} ${EXIT_CODE_WORDS[code]}`)
  .join(", ");

const MAIN_HELP = `
Examples:
  berth login --server http://localhost:3000
  berth stack deploy -f stack.yaml
  berth stack ps shop
  berth events -f
  berth hosts ls
  berth join-token create --ttl 1h
  berth hosts ls --output json
  berth build -t my-team/app:1 . && berth push my-team/app:1
  berth pull my-team/app:1

Environment:
  BERTH_SERVER           control-plane URL (--server overrides it)
  BERTH_TOKEN            API token; overrides the one \`berth login\` stored
  BERTH_CONFIG           config file (default $XDG_CONFIG_HOME/berth/config.json or ~/.config/berth/config.json)
  BERTH_AGENT_BIN        the local berth-agent for pull, push, images, build (default: berth-agent on PATH)
  BERTH_AGENT_STATE_DIR  the local agent's state directory (default /var/lib/berth/agent)

Exit codes: 0 success, ${USAGE_EXIT_CODE} usage error, ${exitCodes}.`;

export const defaultDeps: Deps = {
  io: processIo,
  loadEnv: () => loadEnv(),
  now: () => Date.now(),
  hostname: () => os.hostname(),
  createApi: (target) => createApi(target),
};

export function buildProgram(deps: Deps): Command {
  const { io } = deps;
  const program = new Command("berth")
    .description(
      "Berth command-line tool: log in to a control plane, deploy stacks across its hosts, follow what happens, let new hosts join, and build, pull and push images with this host's agent.",
    )
    .version(CLI_VERSION, "-V, --version", "print the berth CLI version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .option("--server <url>", "control-plane URL (default: BERTH_SERVER, then the server of `berth login`)")
    .addOption(
      new Option("-o, --output <format>", "json prints only the result, as JSON, for scripts")
        .choices(OUTPUT_FORMATS)
        .default("text"),
    )
    .configureHelp({ showGlobalOptions: true, visibleGlobalOptions })
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText("after", MAIN_HELP);

  // Subcommands made with .command() inherit the settings above.
  registerLogin(program, deps);
  registerLogout(program, deps);
  registerWhoami(program, deps);
  registerStack(program, deps);
  registerService(program, deps);
  registerHosts(program, deps);
  registerEvents(program, deps);
  registerJoinToken(program, deps);
  registerUser(program, deps);
  registerTeam(program, deps);
  registerImageCommands(program, deps);
  oneLineUsageErrors(program);
  return program;
}

/** Every command's help lists --server and --output; --version belongs to the top level only. */
function visibleGlobalOptions(this: Help, cmd: Command): Option[] {
  return Help.prototype.visibleGlobalOptions.call(this, cmd).filter((option) => option.long !== "--version");
}

/** Commander's usage errors as one `berth: ...` line pointing at the command's --help. */
function oneLineUsageErrors(cmd: Command, path = cmd.name()): void {
  cmd.configureOutput({
    outputError: (text, write) => {
      const message = text
        .replace(/^error: /, "")
        .replace(/\s*\n\s*/g, " ")
        .trim()
        .replace(/\.$/, "");
      write(`berth: ${message}; see \`${path} --help\`\n`);
    },
  });
  for (const sub of cmd.commands) oneLineUsageErrors(sub, `${path} ${sub.name()}`);
}

/** Run the CLI; returns the exit code instead of exiting so it can be tested. */
export async function runCli(argv: readonly string[], deps: Deps = defaultDeps): Promise<number> {
  try {
    await buildProgram(deps).parseAsync([...argv]);
    return 0;
  } catch (err) {
    // Commander has already printed the help, the version or its usage error.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    if (err instanceof ExitStatus) return err.exitCode;
    deps.io.stderr(errorLine(err));
    return describeError(err).exitCode;
  }
}
