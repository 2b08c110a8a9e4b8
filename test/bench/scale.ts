/**
 * Scale benchmark (issue 5): the real control plane (its own process, on its
 * embedded Postgres) with 1,000 hollow hosts — `berth-agent --hollow`, the
 * real protocol over WebSocket with the simulated runtime — then a stack of
 * 10,000 replicas. It prints placements per second, the time until every task
 * is reported running, the control plane's CPU seconds and peak RSS (and
 * Postgres's CPU), and the time to replace the tasks of 100 hosts that go
 * silent at once. See test/bench/README.md.
 *
 *   npx tsx test/bench/scale.ts [--hosts 1000] [--replicas 10000] [--services 10] [--silent 100]
 *
 * Needs the built server (apps/web/dist/server.js) and agent
 * (agents/agent/dist/berth-agent.js). Exits 0 whatever the figures are.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { AppRouter } from "@berth/web/router";
import { createTRPCClient, httpLink } from "@trpc/client";
import { freePort } from "./support.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SERVER = path.join(ROOT, "apps/web/dist/server.js");
const AGENT = path.join(ROOT, "agents/agent/dist/berth-agent.js");
const TTL_MS = 10_000;
/** Linux's USER_HZ (getconf CLK_TCK): /proc's CPU times count these. */
const CLOCK_TICKS = 100;
const HEARTBEAT_MS = 3_000;
const GOALS = { placementsPerSecond: 1000, allRunningSeconds: 30, replaceWithinMs: TTL_MS + 10_000 };

const { values: args } = parseArgs({
  options: {
    hosts: { type: "string", default: "1000" },
    replicas: { type: "string", default: "10000" },
    services: { type: "string", default: "10" },
    silent: { type: "string", default: "100" },
  },
});
const HOSTS = Number(args.hosts);
const REPLICAS = Number(args.replicas);
const SERVICES = Number(args.services);
const SILENT = Number(args.silent);

const say = (line: string) => process.stdout.write(`${line}\n`);

async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | null>,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** CPU seconds (user + system) of a process, from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Pids of the processes whose parent chain leads to `root`, named `name`. */
async function descendants(root: number, name: string): Promise<number[]> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    if (!stat) continue;
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    parents.set(Number(entry), ppid);
    names.set(Number(entry), comm);
  }
  const under = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  return [...parents.keys()].filter((pid) => names.get(pid)?.startsWith(name) && under(pid));
}

function stackYaml(): string {
  const per = Math.floor(REPLICAS / SERVICES);
  const services = Array.from({ length: SERVICES }, (_, i) => {
    const replicas = i === SERVICES - 1 ? REPLICAS - per * (SERVICES - 1) : per;
    return `  svc${i}:\n    image: bench/svc${i}:1\n    deploy:\n      replicas: ${replicas}\n      resources: { reservations: { cpus: "0.01", memory: 4M } }\n`;
  });
  return `name: scale\nservices:\n${services.join("")}`;
}

function spawnLogged(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env });
  let tail = "";
  child.stderr?.on("data", (d) => {
    tail = (tail + String(d)).slice(-4000);
  });
  child.once("exit", (code, signal) => {
    // 143: SIGTERM from our own clean-up.
    if (code && code !== 0 && code !== 143) {
      process.stderr.write(`${path.basename(args[0]!)} exited ${code ?? signal}: ${tail}\n`);
    }
  });
  return child;
}

async function main() {
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-scale-"));
  await chmod(work, 0o711); // the embedded Postgres runs as its own user and must reach its data
  const children: ChildProcess[] = [];
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    say(`starting the control plane (embedded Postgres, TTL ${TTL_MS / 1000} s) …`);
    const server = spawnLogged([SERVER], {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      BERTH_HOME: path.join(work, "berth"),
      BERTH_ADMIN_PASSWORD: "bench-password",
      BERTH_LOG_LEVEL: "warn",
      BERTH_HOST_TTL_MS: String(TTL_MS),
      BERTH_HEARTBEAT_MS: String(HEARTBEAT_MS),
    });
    children.push(server);
    await waitUntil("the control plane's /healthz", 120_000, async () =>
      (await fetch(`${url}/healthz`)).ok ? true : null,
    );
    const anonymous = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/api/trpc` })] });
    const { token } = await anonymous.auth.createTokenWithPassword.mutate({
      username: "admin",
      password: "bench-password",
      name: "scale bench",
    });
    const api = createTRPCClient<AppRouter>({
      links: [httpLink({ url: `${url}/api/trpc`, headers: { authorization: `Bearer ${token}` } })],
    });
    const join = await api.joinTokens.create.mutate({
      maxUses: Math.min(10_000, HOSTS + 100),
      description: "scale bench",
    });

    // Two hollow fleets: the silent ones are a process of their own, killed at once later.
    const fleets = [
      { count: HOSTS - SILENT, dir: "hollow-a", first: 0 },
      { count: SILENT, dir: "hollow-b", first: HOSTS - SILENT },
    ].filter((f) => f.count > 0);
    say(`starting ${HOSTS} hollow hosts in ${fleets.length} processes …`);
    const joinStarted = Date.now();
    const fleetProcs = fleets.map((f) =>
      spawnLogged(
        [
          AGENT,
          "--hollow",
          String(f.count),
          "--hollow-first",
          String(f.first),
          "--server",
          url,
          "--join-token",
          join.token,
          "--state-dir",
          path.join(work, f.dir),
          "--log-level",
          "warn",
        ],
        process.env,
      ),
    );
    children.push(...fleetProcs);
    const ready = async () => (await api.hosts.list.query()).filter((h) => h.state === "ready").length;
    await waitUntil(
      `${HOSTS} hosts ready`,
      180_000,
      async () => ((await ready()) === HOSTS ? true : null),
      500,
    );
    say(`  ${HOSTS} hosts joined and ready in ${((Date.now() - joinStarted) / 1000).toFixed(1)} s`);

    const serverPid = server.pid!;
    const postgres = await descendants(serverPid, "postgres");
    const cpu0 = await cpuSeconds(serverPid);
    const pg0 = (await Promise.all(postgres.map(cpuSeconds))).reduce((a, b) => a + b, 0);

    say(`deploying ${REPLICAS} replicas in ${SERVICES} services …`);
    const deployed = Date.now();
    await api.stacks.deploy.mutate({ yaml: stackYaml() });
    const counts = async () => {
      const tasks = await api.stacks.list.query({});
      const stack = tasks.find((s) => s.name === "scale");
      return stack ?? null;
    };
    const assignedAt = await waitUntil(
      "every task placed",
      120_000,
      async () => {
        const s = await counts();
        return s && s.placed === REPLICAS ? Date.now() : null;
      },
      100,
    );
    const runningAt = await waitUntil(
      "every task running",
      300_000,
      async () => {
        const s = await counts();
        return s && s.running === REPLICAS ? Date.now() : null;
      },
      200,
    );
    const cpu1 = await cpuSeconds(serverPid);
    const pg1 = (await Promise.all(postgres.map(cpuSeconds))).reduce((a, b) => a + b, 0);
    const placeSeconds = (assignedAt - deployed) / 1000;
    const runSeconds = (runningAt - deployed) / 1000;

    say(`silencing ${SILENT} hosts (kill -9 of their process) …`);
    const killedAt = Date.now();
    fleetProcs.at(-1)?.kill("SIGKILL");
    // Their tasks stop counting as running once the hosts are marked down (TTL) and the tasks lost.
    await waitUntil(
      "the silent hosts' tasks to be marked lost",
      120_000,
      async () => {
        const s = await counts();
        return s && s.running < REPLICAS ? true : null;
      },
      50,
    );
    const replacedAt = await waitUntil(
      "their tasks to run on other hosts",
      120_000,
      async () => {
        const s = await counts();
        return s && s.running === REPLICAS && s.placed === REPLICAS ? Date.now() : null;
      },
      250,
    );
    const replaceMs = replacedAt - killedAt;
    const rss = await peakRssMiB(serverPid);

    const line = (label: string, value: string, goal = "") =>
      say(`  ${label.padEnd(44)}${value.padStart(12)}  ${goal}`);
    const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
    say("");
    say(
      `control plane + ${HOSTS} hollow hosts (one machine, ${os.cpus().length} cores), ${REPLICAS} replicas in ${SERVICES} services`,
    );
    const pps = REPLICAS / placeSeconds;
    line(
      "placements per second (deploy → all placed)",
      pps.toFixed(0),
      `goal >= ${GOALS.placementsPerSecond}: ${verdict(pps >= GOALS.placementsPerSecond)}`,
    );
    line(
      "deploy → every task running",
      `${runSeconds.toFixed(1)} s`,
      `goal <= ${GOALS.allRunningSeconds} s: ${verdict(runSeconds <= GOALS.allRunningSeconds)}`,
    );
    line("control-plane CPU during the deploy", `${(cpu1 - cpu0).toFixed(1)} s`);
    line("Postgres CPU during the deploy", `${(pg1 - pg0).toFixed(1)} s`);
    line("control-plane peak RSS", `${rss.toFixed(0)} MiB`);
    line(
      `${SILENT} hosts silent → their tasks running elsewhere`,
      `${(replaceMs / 1000).toFixed(1)} s`,
      `goal <= TTL ${TTL_MS / 1000} s + 10 s: ${verdict(replaceMs <= GOALS.replaceWithinMs)}`,
    );
    line("load average (1 min) at the end", os.loadavg()[0]!.toFixed(1));
  } finally {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => {
          const t = setTimeout(() => {
            child.kill("SIGKILL");
            r(null);
          }, 15_000);
          child.once("exit", () => {
            clearTimeout(t);
            r(null);
          });
        });
      }
    }
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
