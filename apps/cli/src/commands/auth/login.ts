import type { Command } from "commander";
import { loginWithPassword } from "../../lib/auth.ts";
import { readConfig } from "../../lib/config.ts";
import { UsageError } from "../../lib/errors.ts";
import { type CliIo, printResult } from "../../lib/io.ts";
import { createPrompter } from "../../lib/prompt.ts";
import { loginServer } from "../../lib/session.ts";
import { type Deps, globalFlags } from "../context.ts";

interface LoginFlags {
  username?: string;
  passwordStdin?: boolean;
}

export function registerLogin(program: Command, deps: Deps): void {
  program
    .command("login")
    .summary("log in to a control plane")
    .description(
      "Log in to a control plane with a user name and password. The control plane issues an API token named cli@<hostname>, which is stored with the server URL for the next commands.",
    )
    .option("-u, --username <name>", "user name (asked for when not given)")
    .option("--password-stdin", "read the password from the first line of stdin (needs --username)")
    .addHelpText(
      "after",
      `
Examples:
  berth login --server http://localhost:3000
  printf '%s\\n' "$BERTH_PASSWORD" | berth login --server https://berth.example.com -u admin --password-stdin

The server and token are stored in the config file (BERTH_CONFIG, default
~/.config/berth/config.json), readable only by you. Without --server, login
uses BERTH_SERVER or the server you last logged in to.`,
    )
    .action(async (opts: LoginFlags, cmd: Command) => {
      const flags = globalFlags(cmd);
      const env = deps.loadEnv();
      const config = await readConfig(env.configPath);
      const server = loginServer(flags.server, env, config);
      const remembered = config.server === server ? config.username : undefined;
      const { username, password } = await credentials(deps.io, opts, remembered);
      const result = await loginWithPassword(deps.createApi({ server }), {
        server,
        username,
        password,
        hostname: deps.hostname(),
        configPath: env.configPath,
      });
      if (env.token)
        deps.io.stderr("berth: note: BERTH_TOKEN is set, and commands use it instead of this login\n");
      printResult(deps.io, flags.output, result, (r) => `Logged in to ${r.server} as ${r.username}\n`);
    });
}

/** User name and password from the flags, stdin or prompts on the terminal. */
async function credentials(io: CliIo, opts: LoginFlags, remembered: string | undefined) {
  if (opts.passwordStdin && !opts.username) {
    throw new UsageError("--password-stdin needs --username", {
      hint: "e.g. `berth login -u admin --password-stdin`",
    });
  }
  if (!opts.passwordStdin && !io.stdin.isTTY) {
    throw new UsageError("cannot ask for a password: stdin is not a terminal", {
      hint: "pass --username and --password-stdin",
    });
  }
  const prompter = createPrompter(io);
  try {
    let username = opts.username?.trim();
    if (!username) {
      const answer = (await prompter.ask(remembered ? `Username (${remembered}): ` : "Username: ")).trim();
      username = answer || remembered;
    }
    if (!username) throw new UsageError("a user name is needed");
    const password = opts.passwordStdin
      ? await prompter.ask("", { secret: true })
      : await prompter.ask("Password: ", { secret: true });
    if (!password) {
      throw new UsageError(
        opts.passwordStdin ? "--password-stdin: the first line of stdin is empty" : "a password is needed",
      );
    }
    return { username, password };
  } finally {
    prompter.close();
  }
}
