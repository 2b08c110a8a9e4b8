import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { createUser } from "@berth/control";
import { EXIT_CODES } from "@berth/protocol/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningControlPlane } from "../../web/src/server/control-plane.ts";
import { startTestControlPlane } from "../../web/src/server/testing.ts";
import {
  type BerthResult,
  type BerthRunOptions,
  ensureBuilt,
  runBerth as runBuiltBerth,
} from "./testing/berth-bin.ts";

const PASSWORD = "correct horse battery staple";

/** `berth ...args` (the built bundle, as users run it) with HOME and the config in `home`. */
function runBerth(home: string, args: string[], options: BerthRunOptions = {}): Promise<BerthResult> {
  return runBuiltBerth(home, process.env.PATH ?? "/usr/bin:/bin", args, options);
}

/** A port nothing listens on: bound once by us, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let cp: RunningControlPlane;
const unique = () => randomBytes(5).toString("hex");

async function newUser(role: "admin" | "viewer"): Promise<string> {
  const username = `cli${unique()}`;
  await createUser(
    cp.cp.database.db,
    { userId: null, name: "cli test" },
    { username, password: PASSWORD, role },
  );
  return username;
}

beforeAll(async () => {
  await ensureBuilt();
  cp = await startTestControlPlane();
});
afterAll(() => cp?.stop());

describe("berth against a real control plane", () => {
  let home: string;
  let username: string;
  const berth = (args: string[], options?: BerthRunOptions) => runBerth(home, args, options);

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), "berth-cli-int-"));
    username = await newUser("admin");
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it("logs in with --password-stdin and stores a private API token", async () => {
    const r = await berth(["login", "--server", cp.url, "--username", username, "--password-stdin"], {
      stdin: `${PASSWORD}\n`,
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Logged in to ${cp.url} as ${username}\n`);
    const file = path.join(home, "config.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const config = JSON.parse(await readFile(file, "utf8"));
    expect(config).toMatchObject({ server: cp.url, username });
    expect(config.token).toMatch(/^bat_/);
  });

  it("says who is logged in", async () => {
    const text = await berth(["whoami"]);
    expect([text.code, text.stdout]).toEqual([0, `${username} (admin) on ${cp.url}\n`]);
    const json = await berth(["whoami", "--output", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: username, role: "admin" });
  });

  it("creates, lists and revokes a join token", async () => {
    const created = await berth([
      "join-token",
      "create",
      "--description",
      "int test",
      "--ttl",
      "1h",
      "--output",
      "json",
    ]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as {
      id: string;
      token: string;
      maxUses: number;
      expiresAt: string;
    };
    expect(token.token).toMatch(/^bjt_/);
    expect(token.maxUses).toBe(1);
    expect(Date.parse(token.expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(Date.parse(token.expiresAt) - Date.now()).toBeLessThanOrEqual(3600_000);

    const listed = JSON.parse((await berth(["join-token", "ls", "-o", "json"])).stdout) as Array<{
      id: string;
      status: string;
    }>;
    expect(listed.find((t) => t.id === token.id)?.status).toBe("active");

    const revoked = await berth(["join-token", "revoke", token.id]);
    expect([revoked.code, revoked.stdout]).toEqual([0, `Revoked join token ${token.id}\n`]);
    const after = JSON.parse((await berth(["join-token", "ls", "-o", "json"])).stdout) as Array<{
      id: string;
      status: string;
    }>;
    expect(after.find((t) => t.id === token.id)?.status).toBe("revoked");

    const missing = await berth(["join-token", "revoke", `jt_missing${unique()}`]);
    expect(missing.code).toBe(EXIT_CODES.NotFound);
    expect(missing.stderr).toMatch(/^berth: join token jt_missing\w+ does not exist\n$/);
  });

  it("prints the agent command for a new token in text mode", async () => {
    const r = await berth(["join-token", "create", "--uses", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\n  berth-agent --server ${cp.url} --join-token bjt_[\\w-]+\\n`));
  });

  it("lists hosts as a JSON array and as a table", async () => {
    const json = await berth(["hosts", "ls", "--output", "json"]);
    expect(json.code).toBe(0);
    expect(Array.isArray(JSON.parse(json.stdout))).toBe(true);
    const text = await berth(["hosts", "ls"]);
    expect(text.stdout.split("\n")[0]).toMatch(
      /^NAME\s+ID\s+STATE\s+ADDRESS\s+CPUS\s+MEMORY\s+RUNTIME\s+AGENT\s+LAST SEEN$/,
    );
  });

  it("reports an unknown host as NotFound", async () => {
    const r = await berth(["hosts", "inspect", `host_nope${unique()}`]);
    expect(r.code).toBe(EXIT_CODES.NotFound);
    expect(r.stderr).toMatch(/^berth: no host has the ID or name host_nope\w+; see `berth hosts ls`\n$/);
  });

  it("refuses a token the server does not know", async () => {
    const r = await berth(["whoami"], { env: { BERTH_TOKEN: "bat_not-a-real-token" } });
    expect(r.code).toBe(EXIT_CODES.Unauthenticated);
    expect(r.stderr).toContain("did not accept the BERTH_TOKEN token");
  });

  it("logs out, revoking the token on the server, after which commands say to log in", async () => {
    const { token } = JSON.parse(await readFile(path.join(home, "config.json"), "utf8")) as { token: string };
    expect((await berth(["whoami"], { env: { BERTH_TOKEN: token } })).code).toBe(0);
    expect((await berth(["logout"])).code).toBe(0);
    expect((await berth(["whoami"], { env: { BERTH_TOKEN: token } })).code).toBe(EXIT_CODES.Unauthenticated);
    const r = await berth(["hosts", "ls"]);
    expect(r.code).toBe(EXIT_CODES.Unauthenticated);
    expect(r.stderr).toBe(`berth: not logged in to ${cp.url}; run \`berth login\`\n`);
  });
});

describe("berth failures", () => {
  let home: string;
  const berth = (args: string[], options?: BerthRunOptions) => runBerth(home, args, options);

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), "berth-cli-int-"));
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it("rejects a wrong password with Unauthenticated and stores nothing", async () => {
    const username = await newUser("admin");
    const r = await berth(["login", "--server", cp.url, "-u", username, "--password-stdin"], {
      stdin: "wrong password!\n",
    });
    expect(r.code).toBe(EXIT_CODES.Unauthenticated);
    expect(r.stderr).toBe("berth: wrong username or password\n");
    expect(r.stdout).toBe("");
    await expect(stat(path.join(home, "config.json"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses admin-only commands to a viewer with PermissionDenied", async () => {
    const username = await newUser("viewer");
    const login = await berth(["login", "--server", cp.url, "-u", username, "--password-stdin"], {
      stdin: PASSWORD,
    });
    expect(login.code).toBe(0);
    const r = await berth(["join-token", "create"]);
    expect(r.code).toBe(EXIT_CODES.PermissionDenied);
    expect(r.stderr).toMatch(/^berth: .+\n$/);
  });

  it.each([
    ["a reserved port", async () => "http://127.0.0.1:1", "port 1 is reserved, and fetch will not use it"],
    ["a closed port", async () => `http://127.0.0.1:${await closedPort()}`, "connect ECONNREFUSED"],
  ])("reports %s as Unavailable in one line", async (_what, url, detail) => {
    const server = await url();
    const r = await berth(["login", "--server", server, "-u", "someone", "--password-stdin"], {
      stdin: "whatever\n",
    });
    expect(r.code).toBe(EXIT_CODES.Unavailable);
    expect(r.stderr).toMatch(
      new RegExp(
        `^berth: cannot reach the control plane at ${server}: .+; is it running\\? set --server or BERTH_SERVER\\n$`,
      ),
    );
    expect(r.stderr).toContain(detail);
    const ls = await berth(["hosts", "ls", "--server", server], { env: { BERTH_TOKEN: "bat_x" } });
    expect(ls.code).toBe(EXIT_CODES.Unavailable);
  });
});
