import { type Command, Option } from "commander";
import { registryOf } from "../../lib/image-ref.ts";
import { type Deps, globalFlags } from "../context.ts";
import { agentGlobals, type LocalFlags, registryContext, runLocalAgent, STATE_DIR_HELP } from "./local.ts";

const REF_RULE = `
Image names: a name whose first part is a host (has a "." or ":", or is localhost) is on that
registry (registry.example.com/app:1, docker.io/library/busybox); any other name (app:1,
my-team/app:1) is on the registry of the Berth server you are logged in to: <server host>/app:1.
On that registry the CLI signs in with your login (user and API token), passed to the agent
in its environment, never on its command line.`;

const LOCAL = `
These commands run this host's agent (berth-agent: BERTH_AGENT_BIN, else on PATH, else the
checkout's agents/agent/dist/berth-agent.js) with the same arguments, as docker does dockerd.`;

interface PullFlags extends LocalFlags {
  platform?: string;
  insecureRegistry?: string[];
  creds?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const stateDirOption = () => new Option("--agent-state-dir <dir>", STATE_DIR_HELP);

export function registerImageCommands(program: Command, deps: Deps): void {
  program
    .command("pull")
    .summary("pull an image into this host's agent")
    .argument("<image>", "NAME[:TAG] or NAME@DIGEST (short names are on the Berth registry)")
    .option("--platform <os/arch[/variant]>", "platform of a multi-platform image (default: this host's)")
    .option("--insecure-registry <host>", "plain http for this registry (repeatable)", collect)
    .option("--creds <user:password>", "credentials for another registry (the Berth one needs none)")
    .addOption(stateDirOption())
    .addHelpText(
      "after",
      `${REF_RULE}\n${LOCAL}\n\nExamples:\n  berth pull my-team/app:1\n  berth pull docker.io/library/busybox:1.36`,
    )
    .action(async (image: string, f: PullFlags, cmd: Command) => {
      const registry = await registryContext(deps, cmd);
      const ref = registry.qualify(image);
      const access = await registry.access(registryOf(ref));
      const args = [
        ...agentGlobals(f),
        "pull",
        ...access.args,
        ...(f.platform ? ["--platform", f.platform] : []),
        ...(f.insecureRegistry ?? []).flatMap((h) => ["--insecure-registry", h]),
        ...(f.creds ? ["--creds", f.creds] : []),
        ref,
      ];
      await runLocalAgent(deps, args, access.env);
    });

  program
    .command("push")
    .summary("push an image from this host's agent to a registry")
    .argument("<image>", "a local image, as `berth images` names it: NAME[:TAG]")
    .argument("[target]", "where to push it (default: IMAGE; short names are on the Berth registry)")
    .option("--insecure-registry <host>", "plain http for this registry (repeatable)", collect)
    .option("--creds <user:password>", "credentials for another registry (the Berth one needs none)")
    .addOption(stateDirOption())
    .addHelpText(
      "after",
      `${REF_RULE}\n${LOCAL}\n\nExamples:\n  berth push my-team/app:1\n  berth push app:1 my-team/app:2\n  berth push app:1 registry.example.com/shop/app:1`,
    )
    .action(async (image: string, target: string | undefined, f: PullFlags, cmd: Command) => {
      const registry = await registryContext(deps, cmd);
      const to = registry.qualify(target ?? image);
      const access = await registry.access(registryOf(to));
      const args = [
        ...agentGlobals(f),
        "push",
        ...access.args,
        ...(f.insecureRegistry ?? []).flatMap((h) => ["--insecure-registry", h]),
        ...(f.creds ? ["--creds", f.creds] : []),
        image,
        ...(to === image ? [] : [to]),
      ];
      await runLocalAgent(deps, args, access.env);
    });

  program
    .command("images")
    .summary("list this host's images")
    .option("-q, --quiet", "only ids")
    .addOption(stateDirOption())
    .addHelpText("after", `${LOCAL}\n\nExamples:\n  berth images\n  berth images --output json`)
    .action(async (f: LocalFlags & { quiet?: boolean }, cmd: Command) => {
      const { output } = globalFlags(cmd);
      const args = [...agentGlobals(f), "images", ...(f.quiet ? ["-q"] : []), "--output", output];
      await runLocalAgent(deps, args);
    });

  program
    .command("build")
    .summary("build an image from a Dockerfile with this host's agent")
    .description(
      "Build an image with `berth-agent build`: every argument is passed on as it is (see `berth build --help`, which is the agent's).",
    )
    .argument(
      "[args...]",
      "the agent's build arguments: -t NAME[:TAG] [-f Dockerfile] [--build-arg K=V] CONTEXT",
    )
    .addOption(stateDirOption())
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (args: string[], f: LocalFlags) => {
      await runLocalAgent(deps, [...agentGlobals(f), "build", ...args]);
    });
}
