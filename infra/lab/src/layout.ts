import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Every name and address a lab uses, derived from its name and a host's
 * index (0-based everywhere: `lab.hosts[i]`, netns `<name>-<i>`, address
 * 10.77.0.(10+i), containers' subnet 10.78.<i>.0/24). Everything the lab creates on the machine starts with the
 * lab's name, which is how `down` finds what a crashed lab left behind.
 */

export const DEFAULT_LAB_NAME = "berthlab";
export const MAX_HOSTS = 200;

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const AGENT_BIN = path.join(REPO_ROOT, "agents/agent/dist/berth-agent.js");

export interface LabLayout {
  name: string;
  /** Logs and agent state directories. */
  dir: string;
  /** runc roots and conmon sockets (tmpfs, like the agent's default /run/berth). */
  runDir: string;
  /** The lab's record: what it created, so `down` can undo it after a crash. */
  recordFile: string;
  /**
   * The lab's copy of the agent (the bundle is one self-contained file), taken
   * when the lab is made: every host runs the same agent, whatever rebuilds
   * the checkout's meanwhile.
   */
  agentBin: string;
  bridge: string;
  /** The bridge's address: where lab hosts reach this machine (and a control plane listening on it). */
  gateway: string;
  prefixLength: number;
}

export interface HostLayout {
  index: number;
  /** Network namespace, also the host's hostname. */
  netns: string;
  netnsPath: string;
  /** The veth end on the lab bridge (the other end is eth0 inside the namespace). */
  veth: string;
  address: string;
  /** The lab's directory (shared by its hosts, e.g. for the busybox root filesystem). */
  labDir: string;
  /** The lab's copy of the agent bundle. */
  agentBin: string;
  stateDir: string;
  logFile: string;
  runcRoot: string;
  socketDir: string;
  cgroupParent: string;
  /** The agent's container bridge inside the namespace, and its subnet. */
  containerBridge: string;
  containerSubnet: string;
  /** Names of the agent's per-container network namespaces start with this. */
  containerNetnsPrefix: string;
}

const NAME = /^[a-z][a-z0-9]{0,7}$/;

export interface LabNaming {
  /** Prefix of everything the lab makes (default "berthlab"). */
  name?: string;
  /** Lab directory (default /var/tmp/<name>). */
  dir?: string;
  /** The lab network is 10.<octet>.0.0/24 (default 77); two labs on one machine need different ones. */
  octet?: number;
}

export function labLayout(o: LabNaming = {}): LabLayout {
  const name = o.name ?? DEFAULT_LAB_NAME;
  const octet = o.octet ?? 77;
  if (!NAME.test(name)) {
    throw new Error(`lab name "${name}": use 1-8 lower-case letters and digits (interface names are short)`);
  }
  if (!Number.isInteger(octet) || octet < 1 || octet > 254) throw new Error(`lab octet ${octet}: 1 to 254`);
  const labDir = o.dir ?? path.join("/var/tmp", name);
  return {
    name,
    dir: labDir,
    runDir: path.join("/run", name),
    recordFile: path.join(labDir, "lab.json"),
    agentBin: path.join(labDir, "bin", "berth-agent.js"),
    bridge: `${name}0`,
    gateway: `10.${octet}.0.1`,
    prefixLength: 24,
  };
}

export function hostLayout(lab: LabLayout, index: number): HostLayout {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_HOSTS) {
    throw new Error(`lab host index ${index}: must be an integer from 0 to ${MAX_HOSTS - 1}`);
  }
  const netns = `${lab.name}-${index}`;
  const hostDir = path.join(lab.dir, `host-${index}`);
  return {
    index,
    netns,
    netnsPath: path.join("/run/netns", netns),
    veth: `${lab.name}v${index}`,
    address: lab.gateway.replace(/\.1$/, `.${10 + index}`),
    labDir: lab.dir,
    agentBin: lab.agentBin,
    stateDir: path.join(hostDir, "state"),
    logFile: path.join(lab.dir, "logs", `agent-${index}.log`),
    runcRoot: path.join(lab.runDir, `h${index}`, "runc"),
    socketDir: path.join(lab.runDir, `h${index}`, "conmon"),
    cgroupParent: netns,
    containerBridge: "berth0",
    containerSubnet: `10.78.${index}.0/24`,
    containerNetnsPrefix: `${lab.name}${index}c-`,
  };
}
