import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { appendFile, copyFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { must, run } from "./exec.ts";
import { AGENT_BIN, type HostLayout, type LabLayout } from "./layout.ts";
import { type ProcessRef, processStartTime } from "./procs.ts";

/**
 * One lab host's agent: the built berth-agent, run inside the host's network
 * namespace (and a UTS namespace of its own, so it reports the namespace's
 * name as its hostname), on its own state directory.
 *
 * nsenter joins only the network namespace: the agent stays in the machine's
 * mount namespace, so the overlay roots and container netns it mounts are
 * the machine's, visible to a revived agent and to `down`. (`ip netns exec`
 * would give every start a private mount namespace, lost with the agent.)
 */

/** The state directory's settings every process on it reads: container bridge, subnet, runc root, cgroups. */
export async function prepareStateDir(host: HostLayout): Promise<void> {
  const network = {
    subnet: host.containerSubnet,
    bridgeName: host.containerBridge,
    netnsPrefix: host.containerNetnsPrefix,
  };
  const runtime = { runcRoot: host.runcRoot, socketDir: host.socketDir, cgroupParent: host.cgroupParent };
  await mkdir(path.join(host.stateDir, "network"), { recursive: true, mode: 0o700 });
  await mkdir(path.join(host.stateDir, "runtime"), { recursive: true, mode: 0o700 });
  await writeFile(
    path.join(host.stateDir, "network", "config.json"),
    `${JSON.stringify(network, null, 2)}\n`,
  );
  await writeFile(
    path.join(host.stateDir, "runtime", "config.json"),
    `${JSON.stringify(runtime, null, 2)}\n`,
  );
  await mkdir(host.runcRoot, { recursive: true, mode: 0o700 });
  await mkdir(host.socketDir, { recursive: true, mode: 0o700 });
  await mkdir(path.dirname(host.logFile), { recursive: true });
}

/** Copy the checkout's agent bundle into the lab (waiting a little should a build be rewriting it). */
export async function copyAgent(lab: LabLayout): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!existsSync(AGENT_BIN)) {
    if (Date.now() > deadline) {
      throw new Error(`${AGENT_BIN} is missing: build it with npx turbo run build --filter=@berth/agent`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await mkdir(path.dirname(lab.agentBin), { recursive: true });
  await copyFile(AGENT_BIN, `${lab.agentBin}.tmp`);
  await rename(`${lab.agentBin}.tmp`, lab.agentBin);
}

/** argv prefix that runs a program in the host's network namespace. */
export function inHostNetns(host: HostLayout, argv: readonly string[]): string[] {
  return ["nsenter", `--net=${host.netnsPath}`, "--", ...argv];
}

/** argv that runs the built agent on the host's state directory, in its namespace. */
export function agentCommand(host: HostLayout, args: readonly string[], bin = host.agentBin): string[] {
  return inHostNetns(host, [process.execPath, bin, "--state-dir", host.stateDir, ...args]);
}

export interface AgentStart {
  server: string;
  /** Needed on the first start only; later starts use the stored credential. */
  joinToken?: string;
  logLevel?: string;
}

/**
 * Start the host's agent detached (it outlives the process that started it:
 * `lab up` returns while the agents run), stdout and stderr appended to its
 * log file.
 */
export async function startAgent(host: HostLayout, o: AgentStart): Promise<ProcessRef> {
  if (!existsSync(host.agentBin)) throw new Error(`${host.agentBin} is missing: was the lab made?`);
  await appendFile(host.logFile, `--- lab: agent of ${host.netns} starting ${new Date().toISOString()}\n`);
  const args = ["--server", o.server, "--log-level", o.logLevel ?? "debug"];
  if (o.joinToken) args.push("--join-token", o.joinToken);
  // unshare --uts, then set the hostname and exec the agent: the script is fixed, the values are arguments.
  const argv = inHostNetns(host, [
    "unshare",
    "--uts",
    "--",
    "sh",
    "-c",
    'hostname "$0" && exec "$@"',
    host.netns,
    process.execPath,
    host.agentBin,
    "--state-dir",
    host.stateDir,
    ...args,
  ]);
  const log = openSync(host.logFile, "a");
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ["ignore", log, log] });
  closeSync(log); // the agent has its own copy
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start the agent of ${host.netns}: ${argv.join(" ")}`);
  // Every step execs the next, so this pid ends up as the agent's.
  const startTime = processStartTime(pid);
  if (startTime === null) throw new Error(`the agent of ${host.netns} exited at once; see ${host.logFile}`);
  return { pid, startTime };
}

/** The host id the control plane gave this host (from the agent's stored credential), or null before the join. */
export async function readHostId(host: HostLayout): Promise<string | null> {
  try {
    const credential = JSON.parse(await readFile(path.join(host.stateDir, "credential.json"), "utf8"));
    return typeof credential.hostId === "string" ? credential.hostId : null;
  } catch {
    return null;
  }
}

/**
 * Remove every container the host's agent made, with the agent's own
 * `rm -f` (runc delete, conmon, CNI DEL in the host's namespace, unmount).
 * Run while the namespace still exists.
 */
export async function removeContainers(host: HostLayout): Promise<void> {
  // The lab's copy of the agent, or the checkout's when a crash came before the copy.
  const bin = existsSync(host.agentBin) ? host.agentBin : AGENT_BIN;
  if (!existsSync(bin) || !existsSync(host.stateDir)) return;
  // Never in the machine's own namespace: a namespace lost in a crash is replaced by an empty one, where
  // the CNI plugins' DEL finds nothing of the machine's to touch (the sweep deletes it afterwards).
  if (!existsSync(host.netnsPath)) await must(["ip", "netns", "add", host.netns]);
  const wrap = (args: string[]) => agentCommand(host, args, bin);
  const ids = (JSON.parse(await must(wrap(["ps", "-a", "--output", "json"]))) as Array<{ id: string }>).map(
    (c) => c.id,
  );
  if (ids.length === 0) return;
  const result = await run(wrap(["rm", "-f", ...ids]), { timeoutMs: 120_000 });
  if (result.code !== 0) {
    await appendFile(host.logFile, `--- lab: rm -f of ${ids.length} containers failed: ${result.stderr}\n`);
  }
}
