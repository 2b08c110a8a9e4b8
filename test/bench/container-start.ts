/**
 * Container start-up benchmark: how long `/bin/true` takes to run in a fresh
 * container, end to end, as a user would see it (process start to process
 * exit), for bare runc, Berth's single-host CLI and podman, on one and the
 * same busybox root filesystem. See test/bench/README.md.
 *
 *   npx tsx test/bench/container-start.ts [--runs N] [--network none|bridge|both] [--breakdown]
 *
 * Needs root, runc, podman (Debian's 4.3.1), conmon, busybox-static and the
 * agent's bundle (agents/agent/dist/berth-agent.js). Exits 0 whatever the
 * figures are; non-zero only when a run failed or something could not be set
 * up or cleaned up.
 */
import { type SpawnSyncOptions, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { makeBusyboxRootfs } from "../../agents/agent/src/testing/busybox.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const AGENT_DIST = path.join(ROOT, "agents/agent/dist/berth-agent.js");
const NODE = process.execPath;
const PODMAN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];
const RUN_TIMEOUT_MS = 120_000;
const GOAL_VS_RUNC = 1.5;
const GOAL_VS_PODMAN = 0.3;

class BenchError extends Error {}

// ---------------------------------------------------------------- arguments

function usage(): string {
  return [
    "usage: npx tsx test/bench/container-start.ts [--runs N] [--network none|bridge|both] [--breakdown]",
    "  --runs N        timed runs per series (default 20), after one untimed warm-up each",
    "  --network MODE  which network series to time for Berth and podman (default both):",
    "                  none = --network none; bridge = Berth's default bridge and podman's default network",
    "  --breakdown     afterwards, time Node start-up and Berth's phases (--log-level debug) too",
  ].join("\n");
}

function options(): { runs: number; network: "none" | "bridge" | "both"; breakdown: boolean } {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "20" },
      network: { type: "string", default: "both" },
      breakdown: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new BenchError(`--runs must be a positive integer\n${usage()}`);
  const network = values.network;
  if (network !== "none" && network !== "bridge" && network !== "both") {
    throw new BenchError(`--network must be none, bridge or both\n${usage()}`);
  }
  return { runs, network, breakdown: values.breakdown ?? false };
}

// ---------------------------------------------------------------- processes

interface Result {
  ms: number;
  startedAt: number;
  stdout: string;
  stderr: string;
}

function show(cmd: string, args: string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");
}

/** Run a command to completion, timed; any failure aborts the benchmark with its output. */
function run(cmd: string, args: string[], extra: SpawnSyncOptions = {}): Result {
  const startedAt = Date.now();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: RUN_TIMEOUT_MS,
    ...extra,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const stdout = String(r.stdout ?? "");
  const stderr = String(r.stderr ?? "");
  if (r.error || r.status !== 0) {
    const why = r.error
      ? r.error.message
      : r.signal
        ? `killed by ${r.signal}${r.signal === "SIGTERM" ? ` (timeout ${RUN_TIMEOUT_MS} ms?)` : ""}`
        : `exit ${r.status}`;
    throw new BenchError(
      `${show(cmd, args)} failed: ${why}\n--- stderr ---\n${stderr.trim()}\n--- stdout ---\n${stdout.trim()}`,
    );
  }
  return { ms, startedAt, stdout, stderr };
}

/** First line of a command's output, or "unknown"; for the machine description only. */
function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return r.status === 0 ? String(r.stdout).trim().split("\n")[0] || "unknown" : "unknown";
}

function requireTool(cmd: string, hint: string): void {
  const r = spawnSync(cmd, ["--version"], { stdio: "ignore" });
  if (r.error || r.status !== 0) throw new BenchError(`${cmd} is missing or broken: ${hint}`);
}

// ---------------------------------------------------------------- statistics

interface Stats {
  n: number;
  median: number;
  p90: number;
  min: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const at = (i: number) => s[Math.min(Math.max(i, 0), n - 1)]!;
  const median = n % 2 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  return {
    n,
    median,
    p90: at(Math.ceil(0.9 * n) - 1), // nearest rank
    min: at(0),
    mean: s.reduce((a, b) => a + b, 0) / n,
  };
}

function medianOf(samples: number[]): number | null {
  return samples.length ? stats(samples).median : null;
}

const f1 = (x: number) => x.toFixed(1);
const pad = (s: string, w: number) => s.padEnd(w);
const lpad = (s: string, w: number) => s.padStart(w);

// ---------------------------------------------------------------- clean-up

function mountsUnder(dir: string): string[] {
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => (line.split(" ")[1] ?? "").replace(/\\040/g, " "))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
  return mounts.reverse(); // innermost (mounted last) first
}

// ---------------------------------------------------------------- benchmark

interface Series {
  key: string;
  label: string;
  once(i: number): Result;
  samples: number[];
  /** ms from the command's exit until the processes it left behind were gone (not in the timings). */
  tails: number[];
}

/**
 * Processes a run leaves behind when its command has exited: Berth's conmon
 * and the exit command it starts (`berth-agent container-exited`, both with
 * the temp dir in their command line), podman's conmon and its `podman
 * container cleanup`.
 */
function trailers(tmp: string): Set<number> {
  const pids = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // gone already
    }
    const podmanCleanup = cmdline.includes("podman") && cmdline.includes("\0cleanup\0");
    if (cmdline.includes(tmp) || podmanCleanup) pids.add(Number(entry));
  }
  return pids;
}

/**
 * Wait (up to 10 s) until the processes that appeared during a run are gone,
 * so that one series' background work does not land on the next series'
 * timing. Returns how long that took.
 */
function settle(tmp: string, before: Set<number>): number {
  const t0 = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (elapsed() < 10_000) {
    const left = [...trailers(tmp)].filter((pid) => !before.has(pid));
    if (!left.length) break;
    Atomics.wait(pause, 0, 0, 5);
  }
  return elapsed();
}

async function main(): Promise<number> {
  const opts = options();
  if (process.getuid?.() !== 0) throw new BenchError("run as root: runc, podman and the agent need it");
  requireTool("runc", "apt-get install -y runc");
  requireTool("podman", "apt-get update && apt-get install -y podman");
  requireTool("conmon", "apt-get install -y conmon");
  requireTool("tar", "apt-get install -y tar");
  if (!existsSync(AGENT_DIST)) {
    throw new BenchError(`${AGENT_DIST} is missing: build it first (cd agents/agent && npx tsup)`);
  }

  const tmp = mkdtempSync(path.join(os.tmpdir(), "berth-bench-"));
  const rootfs = path.join(tmp, "rootfs");
  const bundle = path.join(tmp, "runc-bundle");
  const runcRoot = path.join(tmp, "runc-root");
  const stateDir = path.join(tmp, "berth-state");
  const agent = path.join(tmp, "berth-agent.js");
  const image = `localhost/berth-bench-busybox:run-${process.pid}`;
  let podmanImage: string | null = null;
  const problems: string[] = [];

  const cleanup = () => {
    const attempt = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    attempt("runc leftovers", () => {
      if (!existsSync(runcRoot)) return;
      for (const id of run("runc", ["--root", runcRoot, "list", "-q"]).stdout.split(/\s+/).filter(Boolean)) {
        run("runc", ["--root", runcRoot, "delete", "--force", id]);
      }
    });
    attempt("Berth leftovers", () => {
      if (!existsSync(stateDir)) return;
      const ids = run(NODE, [agent, "--state-dir", stateDir, "ps", "-a", "-q"])
        .stdout.split(/\s+/)
        .filter(Boolean);
      if (ids.length) run(NODE, [agent, "--state-dir", stateDir, "rm", "-f", ...ids]);
    });
    attempt("podman leftovers", () => {
      if (!podmanImage) return;
      const ids = run("podman", ["ps", "-a", "-q", "--filter", `ancestor=${podmanImage}`])
        .stdout.split(/\s+/)
        .filter(Boolean);
      if (ids.length) run("podman", ["rm", "-f", ...ids]);
      run("podman", ["rmi", "-f", image]);
    });
    attempt("mounts under the temp dir", () => {
      for (const m of mountsUnder(tmp)) run("umount", ["-l", m]);
    });
    attempt("temp dir", () => rmSync(tmp, { recursive: true, force: true }));
  };
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: cleaning up`);
    cleanup();
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let failed = false;
  try {
    // A private copy of the (self-contained) bundle: a rebuild of dist/ during
    // the run must not change or remove the program being measured.
    const agentBuilt = statSync(AGENT_DIST).mtime.toISOString();
    copyFileSync(AGENT_DIST, agent);
    const agentDigest = createHash("sha256").update(readFileSync(agent)).digest("hex").slice(0, 12);
    await bench(
      opts,
      { tmp, agent, agentBuilt, agentDigest, rootfs, bundle, runcRoot, stateDir, image },
      (id) => {
        podmanImage = id;
      },
    );
  } catch (err) {
    failed = true;
    console.error(`\nbenchmark aborted: ${err instanceof Error ? err.message : String(err)}`);
    if (!(err instanceof BenchError) && err instanceof Error && err.stack) console.error(err.stack);
  } finally {
    cleanup();
  }
  for (const p of problems) console.error(`clean-up failed: ${p}`);
  return failed || problems.length ? 1 : 0;
}

interface Paths {
  tmp: string;
  agent: string;
  agentBuilt: string;
  agentDigest: string;
  rootfs: string;
  bundle: string;
  runcRoot: string;
  stateDir: string;
  image: string;
}

async function bench(
  opts: ReturnType<typeof options>,
  p: Paths,
  setPodmanImage: (id: string) => void,
): Promise<void> {
  const load0 = os.loadavg();

  // One root filesystem for all three.
  await makeBusyboxRootfs(p.rootfs);

  // runc: `runc spec` defaults, adjusted.
  run("mkdir", ["-p", p.bundle, p.runcRoot]);
  run("runc", ["spec", "--bundle", p.bundle]);
  const configPath = path.join(p.bundle, "config.json");
  const spec = JSON.parse(readFileSync(configPath, "utf8"));
  spec.root = { path: p.rootfs, readonly: true };
  spec.process.terminal = false;
  spec.process.args = ["/bin/true"];
  const namespaces: { type: string }[] = spec.linux.namespaces;
  if (!namespaces.some((ns) => ns.type === "network")) namespaces.push({ type: "network" });
  writeFileSync(configPath, JSON.stringify(spec, null, 2));

  // Berth: import into a private state dir.
  run(NODE, [p.agent, "--state-dir", p.stateDir, "import", p.rootfs, "busybox"]);

  // podman: the same tree as an image in podman's default storage.
  const tarball = path.join(p.tmp, "rootfs.tar");
  run("tar", ["-C", p.rootfs, "-cf", tarball, "."]);
  run("podman", ["import", "--quiet", tarball, p.image]);
  setPodmanImage(p.image);
  rmSync(tarball);

  const berth = (network: string) => (_i: number) =>
    run(NODE, [
      p.agent,
      "--state-dir",
      p.stateDir,
      "run",
      "--rm",
      "--network",
      network,
      "busybox",
      "/bin/true",
    ]);
  const podman = (network: string[]) => (_i: number) =>
    run("podman", ["--runtime", "runc", "run", "--rm", ...network, ...PODMAN_LIMITS, p.image, "/bin/true"]);
  const withNone = opts.network !== "bridge";
  const withBridge = opts.network !== "none";
  const series: Series[] = [
    {
      key: "runc",
      label: "runc run (bare, own netns)",
      once: (i) =>
        run("runc", ["--root", p.runcRoot, "run", "--bundle", p.bundle, `bench-${process.pid}-${i}`]),
      samples: [],
      tails: [],
    },
  ];
  if (withNone) {
    series.push({
      key: "berth-none",
      label: "berth run --network none",
      once: berth("none"),
      samples: [],
      tails: [],
    });
  }
  if (withBridge) {
    series.push({
      key: "berth-bridge",
      label: "berth run (bridge, default)",
      once: berth("bridge"),
      samples: [],
      tails: [],
    });
  }
  if (withNone) {
    series.push({
      key: "podman-none",
      label: "podman run --network none",
      once: podman(["--network", "none"]),
      samples: [],
      tails: [],
    });
  }
  if (withBridge) {
    series.push({
      key: "podman-bridge",
      label: "podman run (default net)",
      once: podman([]),
      samples: [],
      tails: [],
    });
  }

  console.log(
    `Berth container-start benchmark: ${opts.runs} timed runs per series after 1 warm-up, interleaved` +
      ` (${series.map((s) => s.key).join(", ")}, ...)`,
  );
  const timed = (s: Series, i: number) => {
    const before = trailers(p.tmp);
    const { ms } = s.once(i);
    const tail = settle(p.tmp, before);
    if (i >= 0) {
      s.samples.push(ms);
      s.tails.push(tail);
    }
  };
  for (const s of series) timed(s, -1); // warm-up, untimed
  for (let i = 0; i < opts.runs; i++) {
    for (const s of series) timed(s, i);
    process.stderr.write(`\r  run ${i + 1}/${opts.runs}`);
  }
  process.stderr.write("\n");
  const load1 = os.loadavg();

  // ------------------------------------------------------------ report
  const st = new Map(series.map((s) => [s.key, stats(s.samples)]));
  const W = 30;
  console.log("");
  console.log(
    `${pad("series (wall ms, spawn to exit)", W)}${["median", "p90", "min", "mean"].map((h) => lpad(h, 9)).join("")}`,
  );
  for (const s of series) {
    const x = st.get(s.key)!;
    console.log(`${pad(s.label, W)}${[x.median, x.p90, x.min, x.mean].map((v) => lpad(f1(v), 9)).join("")}`);
  }
  console.log(
    "after the command exits, until the processes it left behind (conmon, exit command) are gone;" +
      " waited for between runs, not in the timings (median ms):",
  );
  console.log(`  ${series.map((s) => `${s.key} ${f1(stats(s.tails).median)}`).join(", ")}`);

  console.log("");
  console.log("ratios of medians (issue 3 goals: Berth <= 1.5x bare runc, <= 0.3x podman)");
  const ratio = (a: string, b: string, goal: number, note = "") => {
    const x = st.get(a);
    const y = st.get(b);
    if (!x || !y) return;
    const r = x.median / y.median;
    const name = `${a} / ${b}`;
    console.log(
      `  ${pad(name, 30)}${lpad(`${r.toFixed(2)}x`, 8)}   goal <= ${goal}x   ${r <= goal ? "PASS" : "FAIL"}${note}`,
    );
  };
  for (const b of ["berth-none", "berth-bridge"]) {
    ratio(b, "runc", GOAL_VS_RUNC);
    ratio(b, "podman-none", GOAL_VS_PODMAN);
  }
  ratio("berth-bridge", "podman-bridge", GOAL_VS_PODMAN, "   (like for like: both with a bridge network)");

  const podmanInfo = firstLine("podman", [
    "info",
    "--format",
    "network {{.Host.NetworkBackend}}, cgroups {{.Host.CgroupManager}}, storage {{.Store.GraphDriverName}}",
  ]);
  const cgroup = existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? "v2"
    : existsSync("/sys/fs/cgroup/unified")
      ? "v1 (hybrid)"
      : "v1";
  console.log("");
  console.log("machine");
  console.log(`  nproc ${os.availableParallelism()}, ${os.cpus()[0]?.model ?? "unknown cpu"}`);
  console.log(`  ${os.type()} ${os.release()}, cgroup ${cgroup}`);
  console.log(`  node ${process.version}`);
  console.log(`  ${firstLine("runc", ["--version"])}`);
  console.log(`  ${firstLine("podman", ["--version"])} (${podmanInfo}); image via podman import`);
  console.log(
    `  berth-agent ${firstLine(NODE, [p.agent, "--version"])} (agents/agent/dist/berth-agent.js built ${p.agentBuilt},` +
      ` sha256 ${p.agentDigest})`,
  );
  console.log(
    `  load average (1/5/15 min): ${load0.map(f1).join(" ")} before, ${load1.map(f1).join(" ")} after`,
  );

  if (opts.breakdown) breakdown(opts, p, withNone, withBridge);
}

// ---------------------------------------------------------------- breakdown

/** Berth's log events in a `run --rm`, in order. */
const EVENTS = [
  "container created",
  "attached container network",
  "container started",
  "detached container network",
  "container removed",
] as const;

const PHASES: { label: string; from: string; to: string; what: string }[] = [
  {
    label: "spawn -> created",
    from: "spawn",
    to: "container created",
    what: "Node start-up, bundle load, CLI, image lookup, container record",
  },
  {
    label: "created -> net attached",
    from: "container created",
    to: "attached container network",
    what: "bridge only: CNI ADD (netns, veth, IPAM, iptables)",
  },
  {
    label: "created/attached -> started",
    from: "before started",
    to: "container started",
    what: "OCI bundle, overlay, conmon + runc create, runc start",
  },
  {
    label: "started -> net detached",
    from: "container started",
    to: "detached container network",
    what: "bridge only: wait for exit (polled), runc delete, CNI DEL",
  },
  {
    label: "started/detached -> removed",
    from: "before removed",
    to: "container removed",
    what: "(none: + wait for exit, runc delete) unmount, logs, record",
  },
  { label: "removed -> process exit", from: "container removed", to: "exit", what: "Node shutdown" },
];

function breakdown(opts: ReturnType<typeof options>, p: Paths, withNone: boolean, withBridge: boolean): void {
  const modes = [...(withNone ? ["none"] : []), ...(withBridge ? ["bridge"] : [])];
  const nodeBare: number[] = [];
  const nodeVersion: number[] = [];
  const phase = new Map<string, number[]>(); // `${mode}:${label}`
  const totals = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => {
    const list = m.get(k) ?? [];
    list.push(v);
    m.set(k, list);
  };

  const once = (mode: string, timed: boolean) => {
    const before = trailers(p.tmp);
    const r = run(NODE, [
      p.agent,
      "--state-dir",
      p.stateDir,
      "--log-level",
      "debug",
      "run",
      "--rm",
      "--network",
      mode,
      "busybox",
      "/bin/true",
    ]);
    const tail = settle(p.tmp, before);
    if (!timed) return;
    push(phase, `${mode}:tail`, tail);
    const at = new Map<string, number>([
      ["spawn", r.startedAt],
      ["exit", r.startedAt + r.ms],
    ]);
    for (const line of r.stderr.split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const rec = JSON.parse(line) as { msg?: string; time?: number };
        if (rec.msg && typeof rec.time === "number" && (EVENTS as readonly string[]).includes(rec.msg)) {
          at.set(rec.msg, rec.time);
        }
      } catch {
        // not a log line
      }
    }
    at.set(
      "before started",
      at.get("attached container network") ?? at.get("container created") ?? Number.NaN,
    );
    at.set(
      "before removed",
      at.get("detached container network") ?? at.get("container started") ?? Number.NaN,
    );
    for (const ph of PHASES) {
      const a = at.get(ph.from);
      const b = at.get(ph.to);
      if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)) {
        push(phase, `${mode}:${ph.label}`, b - a);
      }
    }
    push(totals, mode, r.ms);
  };

  for (const m of modes) once(m, false);
  run(NODE, ["-e", "0"]);
  for (let i = 0; i < opts.runs; i++) {
    nodeBare.push(run(NODE, ["-e", "0"]).ms);
    nodeVersion.push(run(NODE, [p.agent, "--version"]).ms);
    for (const m of modes) once(m, true);
    process.stderr.write(`\r  breakdown run ${i + 1}/${opts.runs}`);
  }
  process.stderr.write("\n");

  const cell = (v: number | null) => lpad(v === null ? "-" : f1(v), 9);
  console.log("");
  console.log(
    `where Berth's time goes (medians of ${opts.runs} runs with --log-level debug; phases from the agent's` +
      " log timestamps, ms resolution)",
  );
  console.log(`  ${pad("", 30)}${modes.map((m) => lpad(m, 9)).join("")}`);
  console.log(`  ${pad("node -e 0", 30)}${cell(medianOf(nodeBare))}`);
  console.log(`  ${pad("node berth-agent --version", 30)}${cell(medianOf(nodeVersion))}`);
  for (const ph of PHASES) {
    const cells = modes.map((m) => cell(medianOf(phase.get(`${m}:${ph.label}`) ?? []))).join("");
    console.log(`  ${pad(ph.label, 30)}${cells}   ${ph.what}`);
  }
  const tails = modes.map((m) => cell(medianOf(phase.get(`${m}:tail`) ?? []))).join("");
  console.log(
    `  ${pad("(after exit)", 30)}${tails}   background: conmon's exit command (another Node start)`,
  );
  console.log(
    `  ${pad("total (wall)", 30)}${modes.map((m) => cell(medianOf(totals.get(m) ?? []))).join("")}`,
  );
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(err instanceof BenchError ? err.message : err);
  return 1;
});
