import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { EXIT_CODES } from "@berth/protocol/errors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadEnv } from "../../env.ts";
import { type AgentRun, findAgent } from "../../lib/agent.ts";
import type { Api } from "../../lib/api.ts";
import { writeConfig } from "../../lib/config.ts";
import { CliError } from "../../lib/errors.ts";
import { qualify, registryHost, registryOf } from "../../lib/image-ref.ts";
import { runCli } from "../../program.ts";
import type { Deps } from "../context.ts";

const SERVER = "http://127.0.0.1:3000";
const AGENT = { file: "/usr/bin/node", prefix: ["/opt/berth-agent.js"], source: "PATH" as const };

let dir: string;
let configPath: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-cli-images-"));
  configPath = path.join(dir, "config.json");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const login = (server = SERVER) => writeConfig(configPath, { server, username: "ann", token: "bat_secret" });

/** Runs the CLI with a fake agent that exits with `code`; returns what it was asked to run. */
async function run(argv: string[], options: { code?: number; env?: Record<string, string> } = {}) {
  const runs: AgentRun[] = [];
  let stderr = "";
  const whoamiCalls: string[] = [];
  const api = {
    auth: {
      whoami: {
        query: async () => {
          whoamiCalls.push("whoami");
          return { name: "ci-bot", role: "operator" };
        },
      },
    },
  };
  const deps: Deps = {
    io: {
      stdout: () => {},
      stderr: (t) => {
        stderr += t;
      },
      stdin: Readable.from([]),
    },
    loadEnv: () => loadEnv({ BERTH_CONFIG: configPath, ...options.env }, dir),
    now: () => 0,
    hostname: () => "laptop",
    createApi: () => api as unknown as Api,
    findAgent: () => AGENT,
    runAgent: async (r) => {
      runs.push(r);
      return options.code ?? 0;
    },
  };
  const code = await runCli(["node", "berth", ...argv], deps);
  return { code, runs, stderr, whoamiCalls, args: runs[0]?.args, env: runs[0]?.env };
}

describe("image references", () => {
  it("tells a registry host from a repository as Docker does, defaulting to the Berth registry", () => {
    expect(registryOf("app:1")).toBeNull();
    expect(registryOf("my-team/app:1")).toBeNull();
    expect(registryOf("localhost/app")).toBe("localhost");
    expect(registryOf("127.0.0.1:3000/team/app:1")).toBe("127.0.0.1:3000");
    expect(registryOf("docker.io/library/busybox")).toBe("docker.io");
    expect(qualify("my-team/app:1", "berth.example.com")).toBe("berth.example.com/my-team/app:1");
    expect(qualify("ghcr.io/x/y:1", "berth.example.com")).toBe("ghcr.io/x/y:1");
    expect(registryHost("https://berth.example.com")).toBe("berth.example.com");
    expect(registryHost("http://127.0.0.1:3000")).toBe("127.0.0.1:3000");
  });
});

describe("berth pull|push|images|build run the local agent", () => {
  it("push: a short name goes to the Berth registry with the stored login in the agent's environment", async () => {
    await login();
    const r = await run(["push", "my-team/app:1"]);
    expect(r.code).toBe(0);
    expect(r.args).toEqual(["push", "my-team/app:1", "127.0.0.1:3000/my-team/app:1"]);
    expect(r.env).toEqual({ BERTH_REGISTRY_CREDS: "127.0.0.1:3000=ann:bat_secret" });
    expect(r.runs[0]?.program).toBe(AGENT);
    expect(r.whoamiCalls).toEqual([]);
  });

  it("push: a full reference elsewhere gets no Berth credentials; flags and the state dir are passed on", async () => {
    await login();
    const r = await run([
      "push",
      "--agent-state-dir",
      "/tmp/agent",
      "--insecure-registry",
      "build.lan:5000",
      "--creds",
      "u:p",
      "app:1",
      "build.lan:5000/tools/app:1",
    ]);
    expect(r.args).toEqual([
      "--state-dir",
      "/tmp/agent",
      "push",
      "--insecure-registry",
      "build.lan:5000",
      "--creds",
      "u:p",
      "app:1",
      "build.lan:5000/tools/app:1",
    ]);
    expect(r.env).toEqual({});
  });

  it("pull: a remote Berth server over http gets --insecure-registry; BERTH_TOKEN asks whoami for the user", async () => {
    const r = await run(["pull", "--platform", "linux/arm64", "team/app:1"], {
      env: { BERTH_SERVER: "http://berth.lan:3000", BERTH_TOKEN: "bat_ci" },
    });
    expect(r.args).toEqual([
      "pull",
      "--insecure-registry",
      "berth.lan:3000",
      "--platform",
      "linux/arm64",
      "berth.lan:3000/team/app:1",
    ]);
    expect(r.env).toEqual({ BERTH_REGISTRY_CREDS: "berth.lan:3000=ci-bot:bat_ci" });
    expect(r.whoamiCalls).toEqual(["whoami"]);
  });

  it("pull: a full reference needs no login; a short one does", async () => {
    const full = await run(["pull", "docker.io/library/busybox:1.36"]);
    expect(full.code).toBe(0);
    expect(full.args).toEqual(["pull", "docker.io/library/busybox:1.36"]);
    const short = await run(["pull", "app:1"]);
    expect(short.code).toBe(EXIT_CODES.Unauthenticated);
    expect(short.runs).toEqual([]);
    expect(short.stderr).toMatch(/^berth: .*berth login/);
  });

  it("pull: logged in to another server, the Berth registry of --server wants its own login", async () => {
    await login("http://other:3000");
    const r = await run(["pull", "--server", SERVER, "app:1"]);
    expect(r.code).toBe(EXIT_CODES.Unauthenticated);
    expect(r.stderr).toContain("not logged in to http://127.0.0.1:3000");
  });

  it("images and build pass their arguments on; the agent's exit code becomes berth's", async () => {
    const images = await run(["images", "-q", "--agent-state-dir", "/srv/agent"]);
    expect(images.args).toEqual(["--state-dir", "/srv/agent", "images", "-q", "--output", "text"]);
    const json = await run(["--output", "json", "images"]);
    expect(json.args).toEqual(["images", "--output", "json"]);
    const build = await run(["build", "-t", "app:1", "-f", "Dockerfile.dev", "--build-arg", "V=1", "."], {
      code: 3,
    });
    expect(build.args).toEqual(["build", "-t", "app:1", "-f", "Dockerfile.dev", "--build-arg", "V=1", "."]);
    expect(build.code).toBe(3);
    expect(build.stderr).toBe("");
    const help = await run(["build", "--help"]);
    expect(help.args).toEqual(["build", "--help"]);
  });
});

describe("finding the agent", () => {
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
      return "none";
    } catch (err) {
      return err instanceof CliError ? err.code : String(err);
    }
  };

  it("takes BERTH_AGENT_BIN, then PATH, then the checkout's build; else says how to get one", async () => {
    const bin = path.join(dir, "bin");
    await mkdir(bin);
    const onPath = path.join(bin, "berth-agent");
    await writeFile(onPath, "#!/bin/sh\n");
    await chmod(onPath, 0o755);
    const js = path.join(dir, "agent.js");
    await writeFile(js, "");
    expect(findAgent({ agentBin: js, path: [bin] }, dir)).toEqual({
      file: process.execPath,
      prefix: [js],
      source: "BERTH_AGENT_BIN",
    });
    expect(findAgent({ path: ["/nonexistent", bin] }, dir)).toEqual({
      file: onPath,
      prefix: [],
      source: "PATH",
    });
    expect(codeOf(() => findAgent({ agentBin: path.join(dir, "missing"), path: [] }, dir))).toBe(
      "FailedPrecondition",
    );

    const checkout = path.join(dir, "repo");
    const built = path.join(checkout, "agents", "agent", "dist", "berth-agent.js");
    await mkdir(path.dirname(built), { recursive: true });
    await writeFile(built, "");
    const cliDist = path.join(checkout, "apps", "cli", "dist");
    await mkdir(cliDist, { recursive: true });
    expect(findAgent({ path: [] }, cliDist)).toEqual({
      file: process.execPath,
      prefix: [built],
      source: "repository",
    });
    expect(codeOf(() => findAgent({ path: [] }, "/"))).toBe("FailedPrecondition");
  });

  it("without an agent, berth images fails with how to install one", async () => {
    const deps: Deps = {
      io: {
        stdout: () => {},
        stderr: (t) => {
          stderrText += t;
        },
        stdin: Readable.from([]),
      },
      loadEnv: () => loadEnv({ BERTH_CONFIG: configPath, PATH: "" }, dir),
      now: () => 0,
      hostname: () => "laptop",
      createApi: () => ({}) as Api,
      findAgent: (env) => findAgent(env, "/"),
    };
    let stderrText = "";
    expect(await runCli(["node", "berth", "images"], deps)).toBe(EXIT_CODES.FailedPrecondition);
    expect(stderrText).toMatch(/no berth-agent found.*BERTH_AGENT_BIN/);
  });
});
