import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createApiToken, createUser, SYSTEM_ACTOR } from "@berth/control";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningControlPlane } from "../../web/src/server/control-plane.ts";
import { startTestControlPlane } from "../../web/src/server/testing.ts";
import { writeConfig } from "./lib/config.ts";

// `berth push` and `berth pull` end to end: the built CLI runs a real agent (from source) that pushes
// an imported image to the control plane's registry with an API token, and pulls it into another
// state directory; skopeo reads what was pushed.

const CLI_DIR = fileURLToPath(new URL("..", import.meta.url));
const BIN = path.join(CLI_DIR, "dist", "berth.js");
const AGENT_MAIN = fileURLToPath(new URL("../../../agents/agent/src/main.ts", import.meta.url));
const RUN_TIMEOUT_MS = 60_000;
const run = promisify(execFile);

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
    newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** The test runs the built CLI, as users do; build it when it is missing or older than its sources. */
async function ensureBuilt(): Promise<void> {
  const built = await stat(BIN).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  if (built > (await newestSource(path.join(CLI_DIR, "src")))) return;
  await run("npx", ["tsup"], { cwd: CLI_DIR, timeout: 60_000 });
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnCollect(file: string, args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`${file} ${args.join(" ")} did not exit within ${RUN_TIMEOUT_MS} ms; stderr: ${stderr}`),
      );
    }, RUN_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let cp: RunningControlPlane;
let work: string;
let host: string;
let agentBin: string;
let username: string;
let token: string;
const team = `team${randomBytes(3).toString("hex")}`;

beforeAll(async () => {
  await ensureBuilt();
  work = await mkdtemp(path.join(os.tmpdir(), "berth-cli-push-"));
  cp = await startTestControlPlane({ registryDir: path.join(work, "registry") });
  host = new URL(cp.url).host;
  username = `pusher${randomBytes(3).toString("hex")}`;
  await createUser(cp.cp.database.db, SYSTEM_ACTOR, { username, password: "push password 1", role: "admin" });
  const [row] = await cp.cp.database.db.query.users.findMany({
    where: (u, { eq }) => eq(u.username, username),
  });
  ({ token } = await createApiToken(
    cp.cp.database.db,
    { userId: row!.id, username, role: "admin", via: "token" },
    { name: "push test" },
  ));
  await writeConfig(path.join(work, "config.json"), { server: cp.url, username, token });
  // The agent from source, as an executable BERTH_AGENT_BIN points at.
  agentBin = path.join(work, "berth-agent");
  await writeFile(agentBin, `#!/bin/sh\nexec "${process.execPath}" --import tsx "${AGENT_MAIN}" "$@"\n`);
  await chmod(agentBin, 0o755);
}, 120_000);

afterAll(async () => {
  await cp?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const env = () => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: work,
  BERTH_CONFIG: path.join(work, "config.json"),
  BERTH_AGENT_BIN: agentBin,
});
const berth = (args: string[]) => spawnCollect(process.execPath, [BIN, ...args], env());
const agent = (args: string[]) => spawnCollect(agentBin, args, env());

async function makeTree(dir: string): Promise<string> {
  await mkdir(path.join(dir, "bin"), { recursive: true });
  await mkdir(path.join(dir, "etc"), { recursive: true });
  await writeFile(path.join(dir, "etc", "motd"), "pushed by berth\n");
  await writeFile(path.join(dir, "bin", "data"), randomBytes(300_000));
  return dir;
}

describe("berth push and pull through the local agent", () => {
  it("pushes an imported image with the stored login, pulls it into a fresh state dir with the same digest", async () => {
    const stateA = path.join(work, "state-a");
    const stateB = path.join(work, "state-b");
    const tree = await makeTree(path.join(work, "tree"));
    const imported = await agent(["--state-dir", stateA, "import", tree, `${team}/app:1`]);
    expect(imported, imported.stderr).toMatchObject({ code: 0 });

    const pushed = await berth(["push", "--agent-state-dir", stateA, `${team}/app:1`]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain(`The push refers to repository [${host}/${team}/app]`);
    expect(pushed.stdout).toMatch(/^[a-f0-9]{12}: Pushed$/m);
    const digest = /^1: digest: (sha256:[a-f0-9]{64}) size: \d+$/m.exec(pushed.stdout)?.[1];
    expect(digest).toBeDefined();

    const again = await berth(["push", "--agent-state-dir", stateA, `${team}/app:1`]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^[a-f0-9]{12}: Layer already exists$/m);
    expect(again.stdout).toContain(`1: digest: ${digest}`);

    const pulled = await berth(["pull", "--agent-state-dir", stateB, `${team}/app:1`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain(`Digest: ${digest}`);
    expect(pulled.stdout.trimEnd().split("\n").at(-1)).toBe(`${host}/${team}/app:1`);

    const images = await berth(["--output", "json", "images", "--agent-state-dir", stateB]);
    expect(images.code, images.stderr).toBe(0);
    const list = JSON.parse(images.stdout) as { digest: string; names: string[] }[];
    expect(list).toEqual([expect.objectContaining({ digest, names: [`${host}/${team}/app:1`] })]);

    const inspect = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--creds",
      `${username}:${token}`,
      `docker://${host}/${team}/app:1`,
    ]);
    const inspected = JSON.parse(inspect.stdout) as { Digest: string; Layers: string[]; Os: string };
    expect(inspected.Digest).toBe(digest);
    expect(inspected.Layers).toHaveLength(1);
    expect(inspected.Os).toBe("linux");
  }, 180_000);

  it("says what is wrong: an unknown local image, not logged in for a short name", async () => {
    const missing = await berth(["push", "--agent-state-dir", path.join(work, "state-c"), `${team}/none:1`]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`no image "${team}/none:1" in the local store`);

    const loggedOut = await spawnCollect(process.execPath, [BIN, "pull", "app:1"], {
      ...env(),
      BERTH_CONFIG: path.join(work, "nobody.json"),
    });
    expect(loggedOut.code).not.toBe(0);
    expect(loggedOut.stderr).toMatch(/^berth: .*Berth server's registry.*berth login/);
  }, 60_000);
});
