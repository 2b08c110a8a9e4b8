import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { removeContainers } from "./agent.ts";
import { attempt, run } from "./exec.ts";
import { type HostLayout, hostLayout, type LabLayout } from "./layout.ts";
import { forwardRulePresent, removeForwardRule } from "./network.ts";
import { alive, cmdline, killAndWait, processesMentioning, signal } from "./procs.ts";
import { readRecord } from "./record.ts";

/**
 * Undo everything a lab made, whether it is up, half up or crashed: agents,
 * their containers (the agent's own `rm -f`), then a sweep by name of what
 * could remain — processes, cgroups, mounts, network namespaces, links, the
 * iptables rule — and the lab's directories. Idempotent.
 */
export async function tearDown(lab: LabLayout, note: (line: string) => void = () => {}): Promise<void> {
  const record = await readRecord(lab);
  const hosts = knownHosts(lab, record?.hosts.map((h) => h.index) ?? []);
  for (const host of hosts) {
    const ref = record?.hosts.find((h) => h.index === host.index)?.agent;
    if (ref && alive(ref)) await killAndWait(ref);
    for (const pid of agentDaemons(host)) signal(pid, "SIGKILL");
  }
  for (const host of hosts) {
    await removeContainers(host).catch((err) => note(`removing the containers of ${host.netns}: ${err}`));
  }
  await sweep(lab, note);
  const left = await leftovers(lab);
  if (left.length > 0) throw new Error(`lab ${lab.name} not fully torn down: ${left.join("; ")}`);
}

/** Hosts the record names, and any whose namespace or directory exists. */
function knownHosts(lab: LabLayout, recorded: number[]): HostLayout[] {
  const indexes = new Set(recorded);
  const pattern = new RegExp(`^${lab.name}-(\\d+)$`);
  for (const name of list("/run/netns")) {
    const m = pattern.exec(name);
    if (m) indexes.add(Number(m[1]));
  }
  for (const name of list(lab.dir)) {
    const m = /^host-(\d+)$/.exec(name);
    if (m) indexes.add(Number(m[1]));
  }
  return [...indexes].sort((a, b) => a - b).map((i) => hostLayout(lab, i));
}

/** The daemon of a host (started with --server; CLI commands and exit handlers are not). */
function agentDaemons(host: HostLayout): number[] {
  return processesMentioning(host.stateDir).filter((pid) => {
    const argv = cmdline(pid);
    return argv.some((arg) => arg.endsWith("berth-agent.js")) && argv.includes("--server");
  });
}

async function sweep(lab: LabLayout, note: (line: string) => void): Promise<void> {
  for (const pid of labProcesses(lab)) {
    note(`killing leftover process ${pid}: ${cmdline(pid).join(" ")}`);
    signal(pid, "SIGKILL");
  }
  await killCgroups(lab);
  for (const mount of mountsUnder([lab.dir, lab.runDir]).reverse()) {
    if (!(await attempt(["umount", mount]))) await attempt(["umount", "--lazy", mount]);
  }
  for (const name of labNetns(lab)) {
    if (!(await attempt(["ip", "netns", "delete", name]))) note(`cannot delete netns ${name}`);
  }
  for (const link of await labLinks(lab)) await attempt(["ip", "link", "delete", link]);
  await removeForwardRule(lab);
  await removeCgroups(lab);
  await rm(lab.dir, { recursive: true, force: true });
  await rm(lab.runDir, { recursive: true, force: true });
}

/** What is left of a lab on this machine, one line per thing; empty after a clean `down`. */
export async function leftovers(lab: LabLayout): Promise<string[]> {
  const left: string[] = [];
  for (const name of labNetns(lab)) left.push(`netns ${name}`);
  for (const link of await labLinks(lab)) left.push(`link ${link}`);
  for (const pid of labProcesses(lab)) {
    left.push(`process ${pid} (${cmdline(pid).join(" ").slice(0, 200)})`);
  }
  for (const mount of mountsUnder([lab.dir, lab.runDir])) left.push(`mount ${mount}`);
  for (const dir of labCgroups(lab)) left.push(`cgroup ${dir}`);
  if (await forwardRulePresent(lab)) left.push(`iptables FORWARD rule for ${lab.bridge}`);
  if (existsSync(lab.dir)) left.push(`directory ${lab.dir}`);
  if (existsSync(lab.runDir)) left.push(`directory ${lab.runDir}`);
  return left;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Processes whose command line names a path inside the lab's directories (conmon, exit handlers, agents). */
function labProcesses(lab: LabLayout): number[] {
  return [...new Set([...processesMentioning(`${lab.dir}/`), ...processesMentioning(`${lab.runDir}/`)])];
}

/** The hosts' namespaces (`<name>-<i>`) and their containers' (`<name><i>c-…`). */
function labNetns(lab: LabLayout): string[] {
  const pattern = new RegExp(`^${lab.name}(-\\d+|\\d+c-.+)$`);
  return list("/run/netns").filter((name) => pattern.test(name));
}

/** The bridge (`<name>0`) and the hosts' veth ends (`<name>v<i>`). */
async function labLinks(lab: LabLayout): Promise<string[]> {
  const pattern = new RegExp(`^${lab.name}(0|v\\d+)$`);
  const out = await run(["ip", "-o", "link", "show"]);
  return out.stdout
    .split("\n")
    .map((line) => /^\d+: ([^:@]+)[:@]/.exec(line)?.[1])
    .filter((name): name is string => !!name && pattern.test(name));
}

/** Mount points under any of `roots`, outermost first (from this process's mount table). */
function mountsUnder(roots: string[]): string[] {
  const table = readFileSync("/proc/self/mountinfo", "utf8");
  const points = table
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8))));
  return points
    .filter((p) => roots.some((root) => p === root || p.startsWith(`${root}/`)))
    .sort((a, b) => a.length - b.length);
}

/** The lab hosts' cgroup parents (`<name>-<i>`) in every hierarchy: v1 controllers, unified, v2 root. */
function labCgroups(lab: LabLayout): string[] {
  const pattern = new RegExp(`^${lab.name}-\\d+$`);
  const root = "/sys/fs/cgroup";
  const found: string[] = [];
  const visit = (dir: string, depth: number) => {
    for (const entry of list(dir)) {
      const full = path.join(dir, entry);
      let isDir = false;
      try {
        isDir = lstatSync(full).isDirectory();
      } catch {}
      if (!isDir) continue;
      if (pattern.test(entry)) found.push(full);
      else if (depth === 0) visit(full, 1);
    }
  };
  visit(root, 0);
  return found;
}

/** Every cgroup below `dir`, deepest first, `dir` last. */
function cgroupTree(dir: string): string[] {
  const below = list(dir)
    .map((e) => path.join(dir, e))
    .filter((p) => {
      try {
        return lstatSync(p).isDirectory();
      } catch {
        return false;
      }
    });
  return [...below.flatMap(cgroupTree), dir];
}

/** SIGKILL whatever still runs in the lab's cgroups (thawing frozen ones first). */
async function killCgroups(lab: LabLayout): Promise<void> {
  for (let round = 0; round < 50; round++) {
    let found = 0;
    for (const dir of labCgroups(lab).flatMap(cgroupTree)) {
      try {
        writeFileSync(path.join(dir, "freezer.state"), "THAWED");
      } catch {}
      for (const pid of readPids(dir)) {
        found++;
        signal(pid, "SIGKILL");
      }
    }
    if (found === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readPids(dir: string): number[] {
  try {
    return readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function removeCgroups(lab: LabLayout): Promise<void> {
  for (const dir of labCgroups(lab).flatMap(cgroupTree)) {
    await rmdir(dir).catch(() => {});
  }
}
