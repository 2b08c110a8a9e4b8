#!/usr/bin/env node
// `npm start`: install what Berth needs, build it, start the control plane
// (on an embedded Postgres unless DATABASE_URL is set) and an agent for this
// machine, and say where to open the dashboard. Ctrl-C stops both; containers
// the agent runs keep running.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AGENT_PACKAGES,
  checkNode,
  ensureDebianPackages,
  ensureNpmPackages,
  fail,
  ROOT,
  say,
  turbo,
} from "./lib/setup.mjs";

checkNode();
ensureNpmPackages();
ensureDebianPackages(AGENT_PACKAGES, "the agent on this machine");
say("building (turbo, cached) …");
turbo([
  "run",
  "build",
  "--filter=@berth/web",
  "--filter=@berth/agent",
  "--filter=@berth/cli",
  "--output-logs=errors-only",
]);

const home = path.resolve(process.env.BERTH_HOME ?? path.join(ROOT, ".berth"));
const port = process.env.PORT ?? "3000";
// Children get their own process group: Ctrl-C reaches only this script, which
// stops the agent and then the control plane, which stops its Postgres last.
const server = spawn(process.execPath, [path.join(ROOT, "apps/web/dist/server.js")], {
  stdio: ["ignore", "inherit", "inherit"],
  detached: true,
  env: { ...process.env, BERTH_HOME: home, PORT: port, BERTH_LOCAL_AGENT: "1" },
});
let agent = null;
let stopping = false;

const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  say("stopping …");
  agent?.kill("SIGTERM");
  server.kill(signal === "SIGINT" ? "SIGTERM" : signal);
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
server.on("exit", (code) => {
  if (!stopping) agent?.kill("SIGTERM");
  process.exit(stopping ? 0 : (code ?? 1));
});

async function waitHealthy(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {}
    await sleep(250);
  }
  fail(`the control plane did not answer ${url}/healthz within ${timeoutMs / 1000} s`);
}

const local = `http://127.0.0.1:${port}`;
await waitHealthy(local, 120_000);
const stateDir = path.join(home, "agent");
const tokenFile = path.join(home, "local-join-token");
const args = [
  path.join(ROOT, "agents/agent/dist/berth-agent.js"),
  "--server",
  local,
  "--state-dir",
  stateDir,
  "--log-level",
  "warn",
];
if (!existsSync(path.join(stateDir, "credential.json"))) {
  if (!existsSync(tokenFile)) fail(`no join token for the local agent in ${tokenFile}`);
  args.push("--join-token", readFileSync(tokenFile, "utf8").trim());
}
agent = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"], detached: true });
agent.on("exit", (code, signal) => {
  if (!stopping)
    say(`the local agent stopped (${signal ?? `exit code ${code}`}); the control plane keeps running`);
});
// Once the agent holds its own credential the one-use token is spent: remove it.
for (let i = 0; i < 120 && !existsSync(path.join(stateDir, "credential.json")); i++) await sleep(250);
if (existsSync(path.join(stateDir, "credential.json"))) {
  rmSync(tokenFile, { force: true });
  say(`this machine joined as a host (agent state in ${stateDir})`);
}
