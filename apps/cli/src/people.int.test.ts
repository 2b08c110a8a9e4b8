import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createApiToken, createUser, SYSTEM_ACTOR } from "@berth/control";
import type { Role } from "@berth/db";
import { EXIT_CODES } from "@berth/protocol/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningControlPlane } from "../../web/src/server/control-plane.ts";
import { startTestControlPlane } from "../../web/src/server/testing.ts";
import { type BerthResult, type BerthRunOptions, ensureBuilt, runBerth } from "./testing/berth-bin.ts";

// `berth user` and `berth team` (the built bundle) against a real control plane. The database is
// shared with other tests: every name here is unique to this run.
const s = randomBytes(3).toString("hex");
const PASSWORD = "correct horse battery staple";
let cp: RunningControlPlane;
let home: string;
/** An API token per user, so each command runs as someone. */
const tokens = new Map<string, string>();

async function userWithToken(username: string, role: Role): Promise<string> {
  const db = cp.cp.database.db;
  const u = await createUser(db, SYSTEM_ACTOR, { username, password: PASSWORD, role });
  const { token } = await createApiToken(
    db,
    { userId: u.id, username, role, via: "token" },
    { name: "test" },
  );
  tokens.set(username, token);
  return username;
}

function as(username: string, args: string[], options: BerthRunOptions = {}): Promise<BerthResult> {
  return runBerth(home, process.env.PATH ?? "/usr/bin:/bin", [...args, "--server", cp.url], {
    ...options,
    env: { BERTH_TOKEN: tokens.get(username) ?? "", ...options.env },
  });
}

const json = <T>(r: BerthResult): T => {
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
};

const admin = `adm${s}`;
const lead = `lead${s}`; // a fleet operator who will lead a team
const team = `pay${s}`;

beforeAll(async () => {
  await ensureBuilt();
  cp = await startTestControlPlane();
  home = await mkdtemp(path.join(os.tmpdir(), "berth-people-"));
  await userWithToken(admin, "admin");
  await userWithToken(lead, "operator");
});
afterAll(async () => {
  await cp?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe("berth user and berth team", () => {
  it("creates users: a password from stdin, or one generated and shown once", async () => {
    const alice = `alice${s}`;
    const made = await as(admin, ["user", "create", alice, "--role", "operator", "--password-stdin"], {
      stdin: `${PASSWORD}\n`,
    });
    expect(made.stderr).toBe("");
    expect(made.stdout).toBe(
      `Created user ${alice} (operator).\nThey log in with: berth login --server ${cp.url} --username ${alice}\n`,
    );
    const bob = `bob${s}`;
    const generated = json<{ username: string; role: string; password: string }>(
      await as(admin, ["user", "create", bob, "--name", "Bob B", "--output", "json"]),
    );
    expect(generated).toMatchObject({ username: bob, role: "viewer" });
    // The generated password works.
    const login = await runBerth(
      home,
      process.env.PATH ?? "",
      ["login", "--server", cp.url, "--username", bob, "--password-stdin"],
      { stdin: `${generated.password}\n`, env: { BERTH_CONFIG: path.join(home, "bob.json") } },
    );
    expect([login.code, login.stderr]).toEqual([0, ""]);

    const users = json<{ username: string; role: string; teams: string[]; displayName: string }[]>(
      await as(admin, ["user", "ls", "-o", "json"]),
    );
    expect(users.find((u) => u.username === bob)).toMatchObject({
      role: "viewer",
      teams: ["default"],
      displayName: "Bob B",
    });
    const table = await as(admin, ["user", "ls"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^USERNAME\s+ROLE\s+TEAMS\s+CREATED\s+NAME$/);
    expect(table.stdout).toMatch(new RegExp(`\\n${alice}\\s+operator\\s+default\\s`));
  });

  it("refuses a user above the creator, a taken name, a bad role, and anyone below admin", async () => {
    const owner = await as(admin, ["user", "create", `eve${s}`, "--role", "owner"]);
    expect([owner.code, owner.stderr]).toEqual([
      EXIT_CODES.PermissionDenied,
      "berth: as an admin you cannot make an owner\n",
    ]);
    const taken = await as(admin, ["user", "create", lead]);
    expect([taken.code, taken.stderr]).toEqual([EXIT_CODES.Conflict, `berth: user ${lead} already exists\n`]);
    const role = await as(admin, ["user", "create", `x${s}`, "--role", "boss"]);
    expect(role.code).toBe(1);
    expect(role.stderr).toContain('--role: "boss" is not a role: give one of owner, admin, operator, viewer');
    const operator = await as(lead, ["user", "create", `y${s}`]);
    expect(operator.code).toBe(EXIT_CODES.PermissionDenied);
    expect((await as(admin, ["user", "ls", "-o", "json"])).stdout).not.toContain(`"eve${s}"`);
  });

  it("disables a user, whose token then stops working, and enables them again", async () => {
    const carl = await userWithToken(`carl${s}`, "operator");
    expect((await as(carl, ["whoami"])).code).toBe(0);
    const off = await as(admin, ["user", "disable", carl]);
    expect([off.code, off.stdout]).toEqual([0, `Disabled ${carl}\n`]);
    expect((await as(admin, ["user", "disable", carl])).stdout).toBe(`${carl} was already disabled\n`);
    const refused = await as(carl, ["whoami"]);
    expect(refused.code).toBe(EXIT_CODES.Unauthenticated);
    const listed = json<{ username: string; disabledAt: string | null }[]>(
      await as(admin, ["user", "ls", "-o", "json"]),
    );
    expect(listed.find((u) => u.username === carl)?.disabledAt).toEqual(expect.any(String));
    expect((await as(admin, ["user", "enable", carl])).stdout).toBe(`Enabled ${carl}\n`);
    expect((await as(carl, ["whoami"])).code).toBe(0);
    // Not oneself, not someone above, and only as an admin.
    const self = await as(admin, ["user", "disable", admin]);
    expect([self.code, self.stderr]).toEqual([
      EXIT_CODES.FailedPrecondition,
      "berth: you cannot disable or enable yourself\n",
    ]);
    expect((await as(carl, ["user", "disable", lead])).code).toBe(EXIT_CODES.PermissionDenied);
    expect((await as(admin, ["user", "disable", `nobody${s}`])).code).toBe(EXIT_CODES.NotFound);
  });

  it("creates a team, and its admin manages its members up to their own role", async () => {
    const created = await as(admin, ["team", "create", `Payments ${s}`, "--slug", team]);
    expect([created.code, created.stdout]).toEqual([
      0,
      `Created team Payments ${s} (${team}); add members with \`berth team add ${team} USER --role ROLE\`\n`,
    ]);
    // Only fleet admins create teams.
    expect((await as(lead, ["team", "create", `Other ${s}`])).code).toBe(EXIT_CODES.PermissionDenied);
    // A fleet operator cannot manage the team until made its admin.
    const early = await as(lead, ["team", "add", team, `bob${s}`]);
    expect(early.code).toBe(EXIT_CODES.NotFound);
    expect((await as(admin, ["team", "add", team, lead, "--role", "admin"])).stdout).toBe(
      `${lead} is now admin of ${team}\n`,
    );
    expect((await as(lead, ["team", "add", team, `bob${s}`, "--role", "operator"])).stdout).toBe(
      `bob${s} is now operator of ${team}\n`,
    );
    expect((await as(lead, ["team", "add", team, `bob${s}`, "--role", "operator"])).stdout).toBe(
      `bob${s} was already operator of ${team}\n`,
    );
    const above = await as(lead, ["team", "add", team, `alice${s}`, "--role", "owner"]);
    expect([above.code, above.stderr]).toEqual([
      EXIT_CODES.PermissionDenied,
      "berth: as an admin you cannot make anyone owner\n",
    ]);
    const members = json<{ role: string; members: { username: string; role: string }[] }>(
      await as(lead, ["team", "members", team, "-o", "json"]),
    );
    expect(members.role).toBe("admin");
    expect(members.members.map((m) => [m.username, m.role])).toEqual([
      [`bob${s}`, "operator"],
      [lead, "admin"],
    ]);
    const listed = json<{ slug: string; role: string | null; members: number }[]>(
      await as(lead, ["team", "ls", "-o", "json"]),
    );
    expect(listed.map((t) => [t.slug, t.role, t.members])).toEqual([
      ["default", "operator", expect.any(Number)],
      [team, "admin", 2],
    ]);
    expect((await as(lead, ["team", "remove-member", team, `bob${s}`])).stdout).toBe(
      `bob${s} is no longer in ${team}\n`,
    );
    expect((await as(lead, ["team", "remove-member", team, `bob${s}`])).stdout).toBe(
      `bob${s} was not in ${team}\n`,
    );
  });

  it("removes a team only with --yes (or a yes on a terminal), and only as a fleet admin", async () => {
    const noTerminal = await as(admin, ["team", "rm", team]);
    expect([noTerminal.code, noTerminal.stderr]).toEqual([
      1,
      `berth: not removing team ${team} without asking, and there is no terminal to ask on; pass --yes\n`,
    ]);
    expect((await as(lead, ["team", "rm", team, "--yes"])).code).toBe(EXIT_CODES.PermissionDenied);
    const removed = await as(admin, ["team", "rm", team, "--yes"]);
    expect([removed.code, removed.stdout]).toEqual([0, `Removed team ${team}\n`]);
    const gone = await as(admin, ["team", "members", team]);
    expect(gone.code).toBe(EXIT_CODES.NotFound);
    const fleet = await as(admin, ["team", "rm", "default", "--yes"]);
    expect([fleet.code, fleet.stderr]).toEqual([
      EXIT_CODES.FailedPrecondition,
      "berth: the default team cannot be removed\n",
    ]);
  });
});
