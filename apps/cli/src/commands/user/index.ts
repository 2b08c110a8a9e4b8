import type { Role } from "@berth/db/roles";
import type { Command } from "commander";
import { parseFlag, UsageError } from "../../lib/errors.ts";
import { printResult } from "../../lib/io.ts";
import {
  createUser,
  generatePassword,
  listUsers,
  parseRole,
  setUserDisabled,
  usersTable,
} from "../../lib/people.ts";
import { askOnce } from "../../lib/prompt.ts";
import { type Deps, openSession } from "../context.ts";

interface CreateFlags {
  role: string;
  name?: string;
  passwordStdin?: boolean;
}

export function registerUser(program: Command, deps: Deps): void {
  const user = program
    .command("user")
    .alias("users")
    .summary("list and create users")
    .description(
      "Users of this control plane. A user's role in the default team is their role across the fleet (owner, admin, operator or viewer); `berth team add` puts them in other teams. Needs the owner or admin role.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  berth user ls\n  berth user create alice --role operator\n  berth user disable alice",
    );

  user
    .command("ls")
    .alias("list")
    .summary("list users")
    .description("List users with their fleet role and the teams they are in.")
    .action(async (_opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const users = await listUsers(s.api, s.target);
      printResult(deps.io, s.flags.output, users, (u) => usersTable(u, deps.now()));
    });

  user
    .command("create")
    .summary("create a user")
    .description(
      "Create a user in the default team with a fleet role (default: viewer; only an owner makes owners). Without --password-stdin a password is generated and shown once.",
    )
    .argument(
      "<username>",
      "2–63 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter",
    )
    .option("--role <role>", "owner, admin, operator or viewer", "viewer")
    .option("--name <text>", "the name shown next to the username")
    .option("--password-stdin", "read the password from the first line of stdin")
    .addHelpText(
      "after",
      `
Examples:
  berth user create alice --role operator
  printf '%s\\n' "$PASSWORD" | berth user create ci-bot --role operator --password-stdin`,
    )
    .action(async (username: string, flags: CreateFlags, cmd: Command) => {
      const role: Role = parseFlag("--role", flags.role, parseRole);
      const s = await openSession(deps, cmd);
      const generated = !flags.passwordStdin;
      const password = generated ? generatePassword() : await askOnce(deps.io, "", { secret: true });
      if (!password) throw new UsageError("--password-stdin: the first line of stdin is empty");
      const created = await createUser(s.api, s.target, {
        username,
        password,
        role,
        ...(flags.name ? { displayName: flags.name } : {}),
      });
      const result = generated ? { ...created, password } : created;
      printResult(deps.io, s.flags.output, result, (c) =>
        [
          `Created user ${c.username} (${c.role}).`,
          ...(generated ? ["", "Password (shown only this once):", "", `  ${password}`, ""] : []),
          `They log in with: berth login --server ${s.target.server} --username ${c.username}`,
          "",
        ].join("\n"),
      );
    });

  for (const disabled of [true, false]) {
    const verb = disabled ? "disable" : "enable";
    user
      .command(verb)
      .summary(disabled ? "stop a user from logging in or using the API" : "let a disabled user in again")
      .description(
        disabled
          ? "Disable a user: they cannot log in, their sessions end, and their API tokens are refused until they are enabled again. Nobody disables themselves or someone above them."
          : "Enable a disabled user: they can log in again, and their API tokens work again.",
      )
      .argument("<username>", "the user")
      .action(async (username: string, _opts: unknown, cmd: Command) => {
        const s = await openSession(deps, cmd);
        const result = await setUserDisabled(s.api, s.target, { username, disabled });
        printResult(deps.io, s.flags.output, result, (r) =>
          r.changed
            ? `${disabled ? "Disabled" : "Enabled"} ${username}\n`
            : `${username} was already ${verb}d\n`,
        );
      });
  }
}
