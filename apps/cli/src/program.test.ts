import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { EXIT_CODES } from "@berth/protocol/errors";
import { TRPCClientError } from "@trpc/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "./commands/context.ts";
import { loadEnv } from "./env.ts";
import type { Api, Target } from "./lib/api.ts";
import { writeConfig } from "./lib/config.ts";
import { runCli } from "./program.ts";
import { CLI_VERSION } from "./version.ts";

const SERVER = "http://berth.test:3000";
const NOW = Date.parse("2025-06-01T12:00:00Z");

let dir: string;
let configPath: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-cli-program-"));
  configPath = path.join(dir, "config.json");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  targets: Target[];
}

/** Run the CLI in-process against a fake API (only the procedures a test gives exist). */
async function run(
  argv: string[],
  api: object = {},
  options: { env?: Record<string, string>; stdin?: string } = {},
) {
  const out: Run = { code: -1, stdout: "", stderr: "", targets: [] };
  const deps: Deps = {
    io: {
      stdout: (t) => {
        out.stdout += t;
      },
      stderr: (t) => {
        out.stderr += t;
      },
      stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    },
    loadEnv: () => loadEnv({ BERTH_CONFIG: configPath, ...options.env }, dir),
    now: () => NOW,
    hostname: () => "laptop",
    createApi: (target) => {
      out.targets.push(target);
      return api as Api;
    },
  };
  out.code = await runCli(["node", "berth", ...argv], deps);
  return out;
}

const loggedIn = () => writeConfig(configPath, { server: SERVER, username: "ada", token: "bat_stored" });

const hostRows = [
  {
    id: "host_1",
    name: "web-1",
    address: null,
    labels: {},
    state: "ready",
    facts: { runtime: null, cniPlugins: [] },
    cpus: 2,
    memoryBytes: 1024 ** 3,
    agentVersion: "0.1.0",
    lastSeenAt: "2025-06-01T11:59:58.000Z",
    connected: true,
  },
];

describe("--output json", () => {
  it("prints exactly the API's result on stdout", async () => {
    await loggedIn();
    const r = await run(["hosts", "ls", "--output", "json"], {
      hosts: { list: { query: async () => hostRows } },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(hostRows);
    expect(r.stderr).toBe("");
  });

  it("is accepted before the command too, and an empty list stays valid JSON with no notes", async () => {
    await loggedIn();
    const r = await run(["-o", "json", "hosts", "ls"], { hosts: { list: { query: async () => [] } } });
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.stderr).toBe("");
  });

  it("prints the created join token, with the token, and nothing else", async () => {
    await loggedIn();
    const created = { id: "jt_1", token: "bjt_abc", expiresAt: "2025-06-02T12:00:00.000Z", maxUses: 1 };
    let input: unknown;
    const api = {
      joinTokens: {
        create: {
          mutate: async (i: unknown) => {
            input = i;
            return created;
          },
        },
      },
    };
    const r = await run(["join-token", "create", "--ttl", "1h", "--uses", "3", "-o", "json"], api);
    expect(JSON.parse(r.stdout)).toEqual(created);
    expect(input).toEqual({ description: undefined, ttlSeconds: 3600, maxUses: 3 });
  });

  it("writes errors to stderr only", async () => {
    const r = await run(["hosts", "ls", "-o", "json"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^berth: not logged in/);
  });
});

describe("text output", () => {
  it("prints the agent command for a new join token", async () => {
    await loggedIn();
    const created = { id: "jt_1", token: "bjt_abc", expiresAt: "2025-06-02T12:00:00.000Z", maxUses: 1 };
    const r = await run(["join-token", "create"], {
      joinTokens: { create: { mutate: async () => created } },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  bjt_abc\n");
    expect(r.stdout).toContain(`  berth-agent --server ${SERVER} --join-token bjt_abc\n`);
    expect(r.stdout).toContain("expires in 24h");
  });
});

describe("errors and exit codes", () => {
  it("exits with Unauthenticated when not logged in", async () => {
    const r = await run(["whoami"]);
    expect(r.code).toBe(EXIT_CODES.Unauthenticated);
    expect(r.stderr).toBe(
      "berth: not logged in; run `berth login --server URL` (or set BERTH_SERVER and BERTH_TOKEN)\n",
    );
  });

  it("never sends the stored token to another server", async () => {
    await loggedIn();
    const r = await run(["whoami", "--server", "http://elsewhere.test"]);
    expect(r.code).toBe(EXIT_CODES.Unauthenticated);
    expect(r.targets).toEqual([]);
    expect(r.stderr).toContain(`you are logged in to ${SERVER}`);
  });

  it("prefers BERTH_TOKEN to the stored token", async () => {
    await loggedIn();
    const api = { auth: { whoami: { query: async () => ({ userId: "u", name: "ci", role: "admin" }) } } };
    const r = await run(["whoami"], api, { env: { BERTH_TOKEN: "bat_env" } });
    expect(r.targets).toEqual([{ server: SERVER, token: "bat_env", tokenSource: "BERTH_TOKEN" }]);
    expect(r.stdout).toBe(`ci (admin) on ${SERVER}\n`);
  });

  it("maps a server error to its exit code and message", async () => {
    await loggedIn();
    const notFound = TRPCClientError.from({
      error: {
        code: -32004,
        message: "join token jt_9 does not exist",
        data: { code: "NOT_FOUND", berthCode: "NotFound" },
      },
    });
    const api = { joinTokens: { revoke: { mutate: () => Promise.reject(notFound) } } };
    const r = await run(["join-token", "revoke", "jt_9"], api);
    expect(r.code).toBe(EXIT_CODES.NotFound);
    expect(r.stderr).toBe("berth: join token jt_9 does not exist\n");
  });

  it.each([
    [["hosts", "ls", "--nope"], /^berth: unknown option '--nope'; see `berth hosts ls --help`\n$/],
    [
      ["hots"],
      /^berth: unknown command 'hots' \(Did you mean (one of host, )?hosts\?\); see `berth --help`\n$/,
    ],
    [["join-token", "create", "--ttl", "tomorrow"], /^berth: --ttl: "tomorrow" is not a duration/],
    [["join-token", "create", "--uses", "0"], /^berth: --uses: "0" is not a number of uses/],
    [["hosts", "inspect"], /^berth: missing required argument 'host'; see `berth hosts inspect --help`\n$/],
    [["whoami", "--server", "localhost:3000"], /did you mean http:\/\/localhost:3000\?/],
    [["login"], /^berth: which control plane\? pass --server URL or set BERTH_SERVER/],
  ])("exits 1 with one clear line for a usage error: %j", async (argv, line) => {
    await rm(configPath, { force: true });
    const r = await run(argv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(line);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stdout).toBe("");
  });

  it("rejects a bad BERTH_SERVER with InvalidArgument", async () => {
    const r = await run(["whoami"], {}, { env: { BERTH_SERVER: "not a url" } });
    expect(r.code).toBe(EXIT_CODES.InvalidArgument);
    expect(r.stderr).toMatch(/^berth: invalid environment: BERTH_SERVER: /);
  });
});

describe("login", () => {
  it("reads the password from stdin, stores the token 0600 and names it after the host", async () => {
    let input: unknown;
    const created = { id: "tok_1", token: "bat_new", expiresAt: null };
    const api = {
      auth: {
        createTokenWithPassword: {
          mutate: async (i: unknown) => {
            input = i;
            return created;
          },
        },
      },
    };
    const r = await run(["login", "--server", SERVER, "-u", "ada", "--password-stdin"], api, {
      stdin: "correct horse battery\nignored\n",
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Logged in to ${SERVER} as ada\n`);
    expect(input).toEqual({ username: "ada", password: "correct horse battery", name: "cli@laptop" });
    expect(r.targets).toEqual([{ server: SERVER }]);
    expect(JSON.parse(await readFile(configPath, "utf8"))).toEqual({
      server: SERVER,
      username: "ada",
      token: "bat_new",
    });
  });

  it("needs --username with --password-stdin, and a terminal to prompt", async () => {
    const a = await run(["login", "--server", SERVER, "--password-stdin"], {}, { stdin: "pw\n" });
    expect([a.code, a.stderr]).toEqual([
      1,
      "berth: --password-stdin needs --username; e.g. `berth login -u admin --password-stdin`\n",
    ]);
    const b = await run(["login", "--server", SERVER, "-u", "ada"]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain("stdin is not a terminal");
  });

  it("refuses an empty password line", async () => {
    const r = await run(["login", "--server", SERVER, "-u", "ada", "--password-stdin"], {}, { stdin: "\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the first line of stdin is empty");
  });

  it("logout forgets the token but keeps the server", async () => {
    await loggedIn();
    const r = await run(["logout"]);
    expect(r.stdout).toBe(`Logged out ada from ${SERVER}\n`);
    expect(JSON.parse(await readFile(configPath, "utf8"))).toEqual({ server: SERVER });
  });
});

describe("help and version", () => {
  it("prints the version", async () => {
    const r = await run(["--version"]);
    expect([r.code, r.stdout]).toEqual([0, `${CLI_VERSION}\n`]);
  });

  it("shows the global options and examples in a subcommand's help", async () => {
    const r = await run(["join-token", "create", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Global Options:");
    expect(r.stdout).toContain("--server <url>");
    expect(r.stdout).toContain("Examples:");
  });
});
