import type { Command } from "commander";
import { parseFlag } from "../../lib/errors.ts";
import { printResult } from "../../lib/io.ts";
import {
  createTeam,
  listTeams,
  membersTable,
  parseRole,
  removeTeam,
  setTeamMember,
  teamMembers,
  teamsTable,
} from "../../lib/people.ts";
import { confirmRemoval } from "../../lib/prompt.ts";
import { type Deps, openSession } from "../context.ts";

export function registerTeam(program: Command, deps: Deps): void {
  const team = program
    .command("team")
    .alias("teams")
    .summary("teams and who is in them")
    .description(
      "A team owns stacks (`berth stack … --team SLUG`) and the registry repositories under its slug (SLUG/app). Members read; operators deploy and push; admins manage members. Fleet admins act as admins of every team.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  berth team create Payments\n  berth team add payments alice --role operator\n  berth team members payments",
    );

  team
    .command("ls")
    .alias("list")
    .summary("list your teams (every team, for a fleet admin)")
    .action(async (_opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const teams = await listTeams(s.api, s.target);
      printResult(deps.io, s.flags.output, teams, (t) => teamsTable(t, deps.now()));
    });

  team
    .command("create")
    .summary("create a team (fleet owners and admins)")
    .description(
      "Create a team. Its slug names its registry namespace and is what other commands take; by default it is made from the name (lower case, dashes).",
    )
    .argument("<name>", "the team's name, 1–100 characters")
    .option("--slug <slug>", "lower-case letters, digits and single dashes")
    .addHelpText(
      "after",
      "\nExamples:\n  berth team create Payments\n  berth team create 'Data Science' --slug ds",
    )
    .action(async (name: string, flags: { slug?: string }, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const created = await createTeam(s.api, s.target, {
        name,
        ...(flags.slug ? { slug: flags.slug } : {}),
      });
      printResult(
        deps.io,
        s.flags.output,
        created,
        (t) =>
          `Created team ${t.name} (${t.slug}); add members with \`berth team add ${t.slug} USER --role ROLE\`\n`,
      );
    });

  team
    .command("members")
    .summary("list a team's members")
    .argument("<team>", "the team's slug")
    .action(async (slug: string, _opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const members = await teamMembers(s.api, s.target, slug);
      printResult(deps.io, s.flags.output, members, (m) => membersTable(m, deps.now()));
    });

  team
    .command("add")
    .summary("add a user to a team, or change their role in it")
    .description(
      "Add a user to a team with a role, or change the role they have. Needs the admin role in the team; nobody gives a role above their own.",
    )
    .argument("<team>", "the team's slug")
    .argument("<username>", "the user")
    .option("--role <role>", "owner, admin, operator or viewer", "viewer")
    .addHelpText("after", "\nExample:\n  berth team add payments alice --role operator")
    .action(async (slug: string, username: string, flags: { role: string }, cmd: Command) => {
      const role = parseFlag("--role", flags.role, parseRole);
      const s = await openSession(deps, cmd);
      const result = await setTeamMember(s.api, s.target, { team: slug, username, role });
      printResult(deps.io, s.flags.output, result, (r) =>
        r.changed
          ? `${username} is now ${role} of ${slug}\n`
          : `${username} was already ${role} of ${slug}\n`,
      );
    });

  team
    .command("remove-member")
    .summary("take a user out of a team")
    .argument("<team>", "the team's slug")
    .argument("<username>", "the user")
    .action(async (slug: string, username: string, _opts: unknown, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const result = await setTeamMember(s.api, s.target, { team: slug, username, role: null });
      printResult(deps.io, s.flags.output, result, (r) =>
        r.changed ? `${username} is no longer in ${slug}\n` : `${username} was not in ${slug}\n`,
      );
    });

  team
    .command("rm")
    .alias("remove")
    .summary("remove a team (fleet owners and admins)")
    .description(
      "Remove a team and its memberships. A team that still has stacks is refused; its registry repositories stay, for fleet admins. The default team cannot be removed. Asks first, unless --yes.",
    )
    .argument("<team>", "the team's slug")
    .option("-y, --yes", "do not ask")
    .action(async (slug: string, flags: { yes?: boolean }, cmd: Command) => {
      const s = await openSession(deps, cmd);
      const go = await confirmRemoval(deps.io, {
        yes: flags.yes,
        what: `team ${slug}`,
        question: async () => {
          const { members } = await teamMembers(s.api, s.target, slug);
          return `Remove team ${slug} (${members.length} ${members.length === 1 ? "member" : "members"})? [y/N] `;
        },
      });
      if (!go) return;
      const result = await removeTeam(s.api, s.target, slug);
      printResult(deps.io, s.flags.output, result, () => `Removed team ${slug}\n`);
    });
}
