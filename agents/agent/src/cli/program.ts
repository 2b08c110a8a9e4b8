import { Command, CommanderError, Option } from "commander";
import { DEFAULT_STATE_DIR } from "../env.ts";
import { LOG_LEVELS } from "../logger.ts";
import { AGENT_VERSION } from "../version.ts";
import { registerBuild } from "./build.ts";
import { registerContainerCommands } from "./containers/containers.ts";
import { registerImageArchiveCommands } from "./containers/image-archive.ts";
import { registerImageCommands } from "./containers/images.ts";
import { registerPush } from "./containers/push.ts";
import { registerRun } from "./containers/run.ts";
import { type DaemonFlags, daemonCommand } from "./daemon.ts";
import { type FactsFormat, factsCommand } from "./facts.ts";
import { hollowCommand } from "./hollow.ts";
import { type CliIo, errorLine, exitCodeFor, processIo } from "./io.ts";

const EXAMPLES = `
Environment (flags override it):
  BERTH_SERVER           control-plane URL
  BERTH_JOIN_TOKEN       join token (preferred over --join-token, which other users can see in ps)
  BERTH_AGENT_STATE_DIR  state directory (default ${DEFAULT_STATE_DIR})
  BERTH_LOG_LEVEL        ${LOG_LEVELS.join(", ")} (default info)
  BERTH_ALLOW_HOST_BINDS false forbids bind mounts of host paths (default true)

Containers on this machine, without a control plane (global options go first):
  berth-agent import ./rootfs busybox
  berth-agent run --rm busybox echo hello
  berth-agent run -d --name web -p 8080:80 busybox httpd -f -p 80
  berth-agent ps; berth-agent logs -f web; berth-agent exec -it web sh
  berth-agent --state-dir /tmp/berth ps -a

Examples:
  # first start on a new host: join with a token from the control plane
  BERTH_JOIN_TOKEN=... berth-agent --server https://berth.example.com
  # later starts: the stored credential (and its server) is used
  berth-agent
  # what this host will report
  berth-agent facts --output json
  # 1000 simulated hosts for a scale test (the join token needs 1000 uses)
  berth-agent --hollow 1000 --server http://127.0.0.1:3000 --state-dir /tmp/hollow

Logs are JSON lines on stderr.`;

export function buildProgram(io: CliIo): Command {
  const program = new Command("berth-agent")
    .description("Berth host agent: joins this host to a Berth control plane and runs the tasks it is given.")
    .version(AGENT_VERSION, "-V, --version", "print the agent version")
    .helpOption("-h, --help", "show this help")
    .option("--server <url>", "control-plane URL, http(s):// or ws(s)://")
    .option("--join-token <token>", "one-time join token, needed only until this host holds a credential")
    .option(
      "--state-dir <dir>",
      `where the host credential and agent state live (default ${DEFAULT_STATE_DIR})`,
    )
    .addOption(new Option("--log-level <level>", "log level (default info)").choices(LOG_LEVELS))
    .option(
      "--hollow <n>",
      "run N simulated hosts on the real protocol (scale tests); state in <state-dir>/hollow-<i>",
    )
    .option(
      "--hollow-first <i>",
      "number of the first hollow host (default 0), so several --hollow processes have distinct names",
    )
    .addHelpText("after", EXAMPLES)
    // Options after a command belong to it (so `run IMAGE ls -la` passes -la to ls):
    // global options such as --state-dir go before the command, as with docker.
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .showHelpAfterError("(run berth-agent --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (flags: DaemonFlags) =>
      flags.hollow === undefined ? daemonCommand(flags, io) : hollowCommand(flags, io),
    );

  program
    .command("facts")
    .description("print the facts this agent reports about the host (OS, kernel, cgroups, runtime, CNI)")
    .addOption(new Option("--output <format>", "output format").choices(["json", "text"]).default("text"))
    .action(async (flags: { output: FactsFormat }) => factsCommand(flags.output, io));

  registerRun(program, io);
  registerContainerCommands(program, io);
  registerImageCommands(program, io);
  registerBuild(program, io);
  registerPush(program, io);
  registerImageArchiveCommands(program, io);

  // Subcommands inherit exitOverride, output and error-help settings from the program.
  return program;
}

/** Run the CLI; returns the exit code instead of exiting so it can be tested. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv]);
    // Commands that pass on a container's exit code set process.exitCode.
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    // Commander has already printed help, the version or its own usage error.
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr(errorLine(err));
    return exitCodeFor(err);
  }
}
