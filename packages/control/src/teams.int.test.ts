import { createDb, type Database, newId, type Role, runMigrations, schema } from "@berth/db";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freshDatabase } from "../../../test/support/fresh-database.ts";
import { SYSTEM_ACTOR } from "./events.ts";
import {
  createTeam,
  grantCeiling,
  listTeamMembers,
  listTeams,
  manageMembership,
  removeTeam,
  type Team,
  teamAccess,
} from "./teams.ts";
import { createUser, DEFAULT_TEAM, listUsers, setUserDisabled } from "./users.ts";

// On a database of its own: the default team's owners are counted here.
let database: Database;
let drop: () => Promise<void>;
const PASSWORD = "correct horse battery";

beforeAll(async () => {
  const fresh = await freshDatabase(inject("databaseUrl"));
  drop = fresh.drop;
  database = createDb(fresh.url, { max: 4 });
  await runMigrations(database.db);
});
afterAll(async () => {
  await database?.close();
  await drop?.();
});

async function user(username: string, role: Role) {
  return createUser(database.db, SYSTEM_ACTOR, { username, password: PASSWORD, role });
}

const access = (userId: string, slug: string) => teamAccess(database.db, userId, slug);

describe("teams and their members", () => {
  let owner: { id: string };
  let admin: { id: string };
  let operator: { id: string };
  let payments: Team;

  beforeAll(async () => {
    owner = await user("olga", "owner");
    admin = await user("adam", "admin");
    operator = await user("otto", "operator");
    payments = await createTeam(database.db, SYSTEM_ACTOR, { name: "Payments" });
  });

  it("lets a manager give roles up to their own, and never change someone above them", async () => {
    const db = database.db;
    // A fleet admin acts as admin of payments; a fleet owner may make owners there.
    const adminCeiling = grantCeiling((await access(admin.id, "payments")).role, "admin");
    expect(adminCeiling).toBe("admin");
    expect(grantCeiling((await access(owner.id, "payments")).role, "owner")).toBe("owner");
    await expect(
      manageMembership(db, SYSTEM_ACTOR, {
        team: payments,
        username: "otto",
        role: "owner",
        ceiling: adminCeiling,
      }),
    ).rejects.toMatchObject({
      code: "PermissionDenied",
      message: "as an admin you cannot make anyone owner",
    });
    await manageMembership(db, SYSTEM_ACTOR, {
      team: payments,
      username: "olga",
      role: "owner",
      ceiling: "owner",
    });
    await expect(
      manageMembership(db, SYSTEM_ACTOR, {
        team: payments,
        username: "olga",
        role: null,
        ceiling: adminCeiling,
      }),
    ).rejects.toMatchObject({
      code: "PermissionDenied",
      message: "olga is an owner of payments, above you (an admin)",
    });

    const added = await manageMembership(db, SYSTEM_ACTOR, {
      team: payments,
      username: "otto",
      role: "admin",
      ceiling: adminCeiling,
    });
    expect(added).toEqual({ username: "otto", role: "admin", changed: true });
    // The same again changes nothing.
    expect(
      await manageMembership(db, SYSTEM_ACTOR, {
        team: payments,
        username: "otto",
        role: "admin",
        ceiling: "admin",
      }),
    ).toMatchObject({ changed: false });
    // Otto is a fleet operator but admin of payments: he manages it, up to admin.
    expect(grantCeiling((await access(operator.id, "payments")).role, "operator")).toBe("admin");
    // …and not the default team, where he is an operator.
    expect(() => grantCeiling("operator", "operator")).toThrow(
      "as an operator you cannot change who is in the team",
    );
    await expect(
      manageMembership(db, SYSTEM_ACTOR, {
        team: payments,
        username: "nobody",
        role: "viewer",
        ceiling: "admin",
      }),
    ).rejects.toMatchObject({ code: "NotFound", message: "no user nobody" });

    const members = await listTeamMembers(db, payments.id);
    expect(members.map((m) => [m.username, m.role])).toEqual([
      ["olga", "owner"],
      ["otto", "admin"],
    ]);
    const audit = await db.select().from(schema.auditEntries);
    expect(audit.filter((a) => a.action === "team.member.set").length).toBe(2);
  });

  it("lists a user's own teams, and every team to fleet admins", async () => {
    const viewer = await user("vera", "viewer");
    expect((await listTeams(database.db, viewer.id)).map((t) => t.slug)).toEqual([DEFAULT_TEAM]);
    const forOtto = await listTeams(database.db, operator.id);
    expect(forOtto.map((t) => [t.slug, t.role, t.members])).toEqual([
      [DEFAULT_TEAM, "operator", 4],
      ["payments", "admin", 2],
    ]);
    const forAdam = await listTeams(database.db, admin.id);
    expect(forAdam.map((t) => [t.slug, t.role])).toEqual([
      [DEFAULT_TEAM, "admin"],
      ["payments", null],
    ]);
    // One row per user, with every team they are in.
    const users = await listUsers(database.db);
    expect(users.map((u) => [u.username, u.role, u.teams])).toEqual([
      ["adam", "admin", [DEFAULT_TEAM]],
      ["olga", "owner", [DEFAULT_TEAM, "payments"]],
      ["otto", "operator", [DEFAULT_TEAM, "payments"]],
      ["vera", "viewer", [DEFAULT_TEAM]],
    ]);
  });

  it("keeps the fleet's last owner, even when another change removes an owner meanwhile", async () => {
    const db = database.db;
    const fleet = (await access(owner.id, DEFAULT_TEAM)).team;
    await user("omar", "owner");
    // Another transaction holds the default team's memberships and takes olga out...
    const other = await database.pool.connect();
    try {
      await other.query("begin");
      await other.query("select 1 from memberships where team_id = $1 for update", [fleet.id]);
      let settled = false;
      const demote = manageMembership(db, SYSTEM_ACTOR, {
        team: fleet,
        username: "omar",
        role: "viewer",
        ceiling: "owner",
      }).finally(() => {
        settled = true;
      });
      // ...so demoting omar waits for it, and then sees him as the last owner.
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      await other.query("delete from memberships where team_id = $1 and user_id = $2", [fleet.id, owner.id]);
      await other.query("commit");
      await expect(demote).rejects.toMatchObject({
        code: "FailedPrecondition",
        message: "omar is the fleet's last owner; make someone else owner first",
      });
    } finally {
      other.release();
    }
    const owners = (await listTeamMembers(db, fleet.id)).filter((m) => m.role === "owner");
    expect(owners.map((m) => m.username)).toEqual(["omar"]);
  });

  it("disables nobody above the one disabling, and never oneself", async () => {
    const db = database.db;
    const adam = { userId: admin.id, name: "adam", role: "admin" as const };
    await expect(setUserDisabled(db, adam, { username: "omar", disabled: true })).rejects.toMatchObject({
      code: "PermissionDenied",
      message: "omar is an owner, above you (an admin)",
    });
    await expect(setUserDisabled(db, adam, { username: "adam", disabled: true })).rejects.toMatchObject({
      code: "FailedPrecondition",
    });
    expect(await setUserDisabled(db, adam, { username: "vera", disabled: true })).toEqual({
      username: "vera",
      disabled: true,
      changed: true,
    });
    const vera = (await listUsers(db)).find((u) => u.username === "vera");
    expect(vera?.disabledAt).toBeInstanceOf(Date);
    expect(await setUserDisabled(db, adam, { username: "vera", disabled: false })).toMatchObject({
      changed: true,
    });
    const audit = await db.select().from(schema.auditEntries);
    expect(audit.filter((a) => a.action === "user.disable" || a.action === "user.enable")).toHaveLength(2);
  });

  it("removes a team without stacks; refuses the default team and one with stacks", async () => {
    const db = database.db;
    const fleet = (await access(admin.id, DEFAULT_TEAM)).team;
    await expect(removeTeam(db, SYSTEM_ACTOR, fleet)).rejects.toMatchObject({
      code: "FailedPrecondition",
      message: "the default team cannot be removed",
    });
    await db.insert(schema.stacks).values({ id: newId("stk"), teamId: payments.id, name: "shop" });
    await expect(removeTeam(db, SYSTEM_ACTOR, payments)).rejects.toMatchObject({
      code: "FailedPrecondition",
      message: "team payments still has 1 stack; remove them first",
    });
    const empty = await createTeam(db, SYSTEM_ACTOR, { name: "Empty One" });
    expect(empty.slug).toBe("empty-one");
    await manageMembership(db, SYSTEM_ACTOR, {
      team: empty,
      username: "otto",
      role: "viewer",
      ceiling: "owner",
    });
    await removeTeam(db, SYSTEM_ACTOR, empty);
    await expect(access(admin.id, "empty-one")).rejects.toMatchObject({ code: "NotFound" });
    expect((await listUsers(db)).find((u) => u.username === "otto")?.teams).toEqual([
      DEFAULT_TEAM,
      "payments",
    ]);
  });
});
