import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  createJoinToken,
  createUser,
  defaultTeamId,
  getRevision,
  joinHost,
  listStacks,
  SYSTEM_ACTOR,
} from "@berth/control";
import { schema } from "@berth/db";
import { EXIT_CODES } from "@berth/protocol/errors";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleFacts } from "../../../packages/control/src/test-support.ts";
import type { RunningControlPlane } from "../../web/src/server/control-plane.ts";
import { startTestControlPlane } from "../../web/src/server/testing.ts";
import { type BerthRunOptions, ensureBuilt, runBerth } from "./testing/berth-bin.ts";

/**
 * The stack commands against a real control plane (orchestrator and
 * scheduler running, no agents): a stack whose placement no host matches,
 * so its tasks stay pending with the scheduler's reason.
 */
const PASSWORD = "correct horse battery staple";
const suffix = randomBytes(4).toString("hex");
const stack = `cli-${suffix}`;

let cp: RunningControlPlane;
let home: string;
let dir: string;
let teamId: string;
const berth = (args: string[], options: BerthRunOptions = {}) =>
  runBerth(home, process.env.PATH ?? "/usr/bin:/bin", args, { cwd: dir, ...options });

const STACK_FILE = `version: "3.8"
services:
  web:
    image: \${WEB_IMAGE}
    env_file: ./web.env
    environment:
      REGION: \${REGION}
    deploy:
      replicas: 2
      placement:
        constraints: ["node.labels.berth-cli == \${SUFFIX}"]
`;

beforeAll(async () => {
  await ensureBuilt();
  cp = await startTestControlPlane({ orchestratorIntervalMs: 200 });
  teamId = await defaultTeamId(cp.cp.database.db);
  home = await mkdtemp(path.join(os.tmpdir(), "berth-cli-stack-"));
  dir = path.join(home, "project");
  await mkdir(dir);
  await writeFile(path.join(dir, "stack.yaml"), STACK_FILE);
  await writeFile(path.join(dir, ".env"), "WEB_IMAGE=web:1\nREGION=from-dotenv\n");
  await writeFile(path.join(dir, "web.env"), "MODE=prod\n");
  const username = `cli${suffix}`;
  await createUser(cp.cp.database.db, SYSTEM_ACTOR, { username, password: PASSWORD, role: "admin" });
  const login = await berth(["login", "--server", cp.url, "-u", username, "--password-stdin"], {
    stdin: PASSWORD,
  });
  expect(login.code).toBe(0);
});

afterAll(async () => {
  await cp?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

/** The shell's variables: SUFFIX only there, REGION overriding .env's. */
const shell = { env: { SUFFIX: suffix, REGION: "eu-1" } };

describe("berth stack", () => {
  it("plans a new stack from the file, its .env, its env_file and the shell", async () => {
    const r = await berth(["stack", "plan", "-f", "stack.yaml", "--name", stack], shell);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Stack ${stack} (revision none → 1):`);
    expect(r.stdout).toMatch(/^ {2}\+ web\s+create\s+2 replicas; tasks: 2 to start$/m);
    expect(r.stdout).toContain("Tasks: 2 to start, 0 to restart, 0 to stop.");
    // version: is obsolete: a warning with its line and column.
    expect(r.stderr).toMatch(/^stack\.yaml:1:1: warning: version: "version" is ignored/m);
    const json = JSON.parse(
      (await berth(["stack", "plan", "-f", "stack.yaml", "--name", stack, "-o", "json"], shell)).stdout,
    );
    expect(json.plan.services).toMatchObject([{ name: "web", action: "create", starts: 2 }]);
    expect((await listStacks(cp.cp.database.db, { teamIds: [teamId] })).map((s) => s.name)).not.toContain(
      stack,
    );
  });

  it("deploys, prints the tasks as they appear, and gives up after --timeout with the reason", async () => {
    const r = await berth(["stack", "deploy", "-f", "stack.yaml", "--name", stack, "--timeout", "3s"], shell);
    expect(r.stdout).toContain(`Deployed ${stack} as revision 1.`);
    expect(r.stdout).toMatch(/^web\.1 {2}tsk_\S+ {2}new → pending/m);
    expect(r.stdout).toMatch(/^web\.2 {2}tsk_\S+ {2}new → pending/m);
    expect(r.code).toBe(EXIT_CODES.FailedPrecondition);
    expect(r.stderr).toMatch(
      new RegExp(`^berth: ${stack} is not running after 3s \\(web: 0/2 running; web\\.\\d pending`, "m"),
    );
    // The scheduler's reason: no host matches the constraint (or none has joined at all).
    expect(r.stderr).toMatch(/pending: no host/);
    const revision = await getRevision(cp.cp.database.db, teamId, stack, 1);
    // The variables and env file went with it: shell over .env, env_file relative to the file.
    expect(revision.spec.services.web!.image).toBe("web:1");
    expect(revision.spec.services.web!.environment).toMatchObject({ MODE: "prod", REGION: "eu-1" });
  });

  it("lists the stack, its services and its pending tasks with the reason", async () => {
    const ls = await berth(["stack", "ls"]);
    expect(ls.stdout).toMatch(new RegExp(`^${stack}\\s+1\\s+1\\s+0/2\\s`, "m"));
    const services = await berth(["stack", "services", stack]);
    expect(services.stdout).toMatch(/^web\s+replicated\s+0\/2\s+web:1\s/m);
    const ps = await berth(["stack", "ps", stack]);
    expect(ps.code).toBe(0);
    expect(ps.stdout.split("\n")[0]).toMatch(
      /^ID\s+NAME\s+IMAGE\s+HOST\s+DESIRED\s+OBSERVED\s+REASON\s+AGE$/,
    );
    expect(ps.stdout).toMatch(/^tsk_\S+\s+web\.1\s+web:1\s+-\s+running\s+pending .+ago\s+no host/m);
    const tasks = JSON.parse((await berth(["stack", "ps", stack, "-o", "json"])).stdout) as Array<{
      observed: string;
      reason: string | null;
    }>;
    expect(tasks).toHaveLength(2);
    expect(tasks.every((t) => t.observed === "pending" && /^no host/.test(t.reason ?? ""))).toBe(true);
  });

  it("scales, as SERVICE=N and as Docker's STACK_SERVICE=N", async () => {
    const up = await berth(["service", "scale", stack, "web=3"]);
    expect([up.code, up.stdout]).toEqual([0, `${stack}: web scaled to 3 (2 → 3), revision 2\n`]);
    const ps = JSON.parse((await berth(["service", "ps", stack, "web", "-o", "json"])).stdout) as unknown[];
    expect(ps).toHaveLength(3);
    const down = await berth(["service", "scale", `${stack}_web=1`]);
    expect([down.code, down.stdout]).toEqual([0, `${stack}: web scaled to 1 (3 → 1), revision 3\n`]);
    const missing = await berth(["service", "scale", stack, "nope=1"]);
    expect(missing.code).toBe(EXIT_CODES.NotFound);
  });

  it("deploys a change and shows it in history and diff", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Compose variable in the file
    await writeFile(path.join(dir, "stack.yaml"), STACK_FILE.replace("${WEB_IMAGE}", "web:2"));
    const r = await berth(["stack", "deploy", "-f", "stack.yaml", "--name", stack, "--detach"], shell);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Deployed ${stack} as revision 4.`);
    // From the live tasks: 1 once the orchestrator has stopped what the scale-down took away.
    expect(r.stdout).toMatch(/^ {2}~ web\s+update\s+replicas [13] → 2; tasks: .*to restart/m);
    expect(r.stdout).toMatch(/^ {6}image\s+"web:1" → "web:2"$/m);

    const history = await berth(["stack", "history", stack]);
    const rows = history.stdout.trim().split("\n").slice(1);
    expect(rows.map((line) => line.split(/\s{3,}/).slice(0, 2))).toEqual([
      ["4", "deploy"],
      ["3", "scale"],
      ["2", "scale"],
      ["1", "deploy"],
    ]);
    expect(rows[0]).toMatch(/\*$/);

    const diff = await berth(["stack", "diff", stack, "1", "4"]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/^ {6}image\s+"web:1" → "web:2"$/m);
    expect(diff.stdout).toContain(`--- ${stack}@1`);
    expect(diff.stdout).toContain(`+++ ${stack}@4`);
    expect(diff.stdout).toMatch(/^- {4}image: \$\{WEB_IMAGE\}$/m);
    expect(diff.stdout).toMatch(/^\+ {4}image: web:2$/m);
    const json = JSON.parse((await berth(["stack", "diff", stack, "-o", "json"])).stdout);
    expect([json.from.n, json.to.n]).toEqual([3, 4]);
    expect(json.patch).toContain("@@");
  });

  it("rolls the whole stack back to revision 1 as a new revision", async () => {
    const r = await berth(["stack", "rollback", stack, "--to", "1", "--detach"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Rolled ${stack} back: revision 5 restores revision 1.`);
    const services = JSON.parse((await berth(["stack", "services", stack, "-o", "json"])).stdout);
    expect(services).toMatchObject([{ name: "web", image: "web:1", replicas: 2 }]);
    const history = await berth(["stack", "history", stack]);
    expect(history.stdout).toMatch(/^5\s+rollback to 1\s/m);
  });

  it("removes a stack only when told to, then it is gone", async () => {
    const refused = await berth(["stack", "rm", stack]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/there is no terminal to ask on; pass --yes\n$/);
    expect((await berth(["stack", "ps", stack])).code).toBe(0);
    const removed = await berth(["stack", "rm", stack, "--yes"]);
    expect([removed.code, removed.stdout]).toEqual([0, `Removed stack ${stack}\n`]);
    expect((await berth(["stack", "ps", stack])).code).toBe(EXIT_CODES.NotFound);
  });

  it("refuses a malformed file with file:line:column, exit 2 and nothing stored", async () => {
    const name = `bad-${suffix}`;
    await writeFile(
      path.join(dir, "bad.yaml"),
      `name: ${name}\nservices:\n  web:\n    image: web:1\n    replica: 3\n    deploy:\n      replicas: lots\n`,
    );
    const r = await berth(["stack", "deploy", "-f", "bad.yaml"]);
    expect(r.code).toBe(EXIT_CODES.InvalidArgument);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("berth: bad.yaml is not a valid stack file (2 problems):");
    expect(lines[1]).toMatch(/^bad\.yaml:5:5: services\.web\.replica: /);
    expect(lines[2]).toMatch(/^bad\.yaml:7:17: services\.web\.deploy\.replicas: /);
    expect((await listStacks(cp.cp.database.db, { teamIds: [teamId] })).map((s) => s.name)).not.toContain(
      name,
    );
  });
});

describe("berth host", () => {
  let hostId: string;
  const hostname = `cli-host-${suffix}`;

  beforeAll(async () => {
    const db = cp.cp.database.db;
    const { token } = await createJoinToken(db, SYSTEM_ACTOR, {});
    ({ hostId } = await joinHost(db, token, {
      facts: sampleFacts({ hostname }),
      agentVersion: "test",
      address: null,
    }));
    // No agent: down, so no scheduler (this run's tests share the database) places tasks on it.
    await db.update(schema.hosts).set({ state: "down" }).where(eq(schema.hosts.id, hostId));
  });
  afterAll(async () => {
    await cp.cp.database.db.delete(schema.hosts).where(eq(schema.hosts.id, hostId));
  });

  const inspect = async () =>
    JSON.parse((await berth(["hosts", "inspect", hostId, "-o", "json"])).stdout).host as {
      availability: string;
      labels: Record<string, string>;
    };

  it("drains a host by name and activates it again", async () => {
    const drained = await berth(["host", "drain", hostname]);
    expect(drained.code).toBe(0);
    expect(drained.stdout).toContain(`Draining ${hostname} (${hostId})`);
    expect((await inspect()).availability).toBe("drain");
    const ls = await berth(["hosts", "ls"]);
    expect(ls.stdout).toMatch(new RegExp(`^${hostname}\\s+${hostId}\\s+down \\(drain\\)`, "m"));
    const active = await berth(["host", "activate", hostId]);
    expect([active.code, active.stdout]).toEqual([0, `${hostname} (${hostId}) is active\n`]);
    expect((await inspect()).availability).toBe("active");
  });

  it("sets and removes labels", async () => {
    const set = await berth(["host", "label", hostname, "zone=eu-1", "ssd=true"]);
    expect([set.code, set.stdout]).toEqual([0, `${hostname} (${hostId}) labels: ssd=true, zone=eu-1\n`]);
    const removed = await berth(["host", "label", hostname, "ssd-"]);
    expect(removed.stdout).toBe(`${hostname} (${hostId}) labels: zone=eu-1\n`);
    expect((await inspect()).labels).toEqual({ zone: "eu-1" });
    const bad = await berth(["host", "label", hostname, "zone"]);
    expect(bad.code).toBe(1);
  });

  it("prints the host's events, filtered by type", async () => {
    const r = await berth(["events", "--type", "host", "--since", "5m", "-o", "json"]);
    expect(r.code).toBe(0);
    const events = JSON.parse(r.stdout) as Array<{ kind: string; subjectId: string; subjectType: string }>;
    expect(events.every((e) => e.subjectType === "host")).toBe(true);
    expect(events.filter((e) => e.subjectId === hostId).map((e) => e.kind)).toEqual([
      "host.joined",
      "host.drain",
      "host.active",
    ]);
  });
});
