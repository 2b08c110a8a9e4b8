import { createHash } from "node:crypto";
import { BerthError } from "@berth/protocol";
import { runProgram } from "../exec.ts";

/**
 * A safety net under CNI DEL. The bridge plugin can undo its masquerading
 * rules only from inside the container's netns (it reads the addresses off
 * the interface), so when the netns is already gone — deleted by hand, or
 * a crash at the wrong moment — its nat rules would stay forever. They are
 * recognisable: the plugins tag them with the comment
 * `name: "<network>" id: "<container id>"` and name their per-container
 * chains after sha512(network + id). This finds and removes those.
 */

export interface RuleDeletion {
  table: string;
  chain: string;
  /** The rule's arguments after `-A <chain>`, unquoted, for `iptables -D <chain> ...`. */
  args: string[];
}

export interface SweepPlan {
  deletions: RuleDeletion[];
  /** Per-container chains to flush and delete once nothing jumps to them. */
  chains: string[];
}

/** The per-container chain names of the bridge (masquerade) and portmap (DNAT) plugins. */
export function containerChains(networkName: string, containerId: string): string[] {
  const hash = createHash("sha512")
    .update(networkName + containerId)
    .digest("hex");
  return [`CNI-${hash.slice(0, 24)}`, `CNI-DN-${hash.slice(0, 21)}`];
}

/** Split an iptables-save rule line into arguments, honouring its double quotes and backslash escapes. */
export function splitRule(line: string): string[] {
  const args: string[] = [];
  let current = "";
  let inQuotes = false;
  let hasToken = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (inQuotes) {
      if (ch === "\\" && i + 1 < line.length) current += line[++i];
      else if (ch === '"') inQuotes = false;
      else current += ch;
    } else if (ch === '"') {
      inQuotes = true;
      hasToken = true;
    } else if (ch === " " || ch === "\t") {
      if (hasToken) args.push(current);
      current = "";
      hasToken = false;
    } else {
      current += ch;
      hasToken = true;
    }
  }
  if (hasToken) args.push(current);
  return args;
}

/**
 * From one table's iptables-save output: every rule tagged with the
 * container id or jumping to one of its chains, and those of its chains that
 * exist. Rules inside those chains go with the chains.
 */
export function planSweep(
  saveText: string,
  table: string,
  containerId: string,
  ownChains: string[],
): SweepPlan {
  const tag = `id: \\"${containerId}\\"`;
  const existing = new Set<string>();
  const deletions: RuleDeletion[] = [];
  for (const line of saveText.split("\n")) {
    if (line.startsWith(":")) {
      const name = line.slice(1).split(" ")[0];
      if (name && ownChains.includes(name)) existing.add(name);
      continue;
    }
    if (!line.startsWith("-A ")) continue;
    const [, chain, ...args] = splitRule(line);
    if (!chain || ownChains.includes(chain)) continue;
    const jumpIndex = args.findIndex((a) => a === "-j" || a === "-g");
    const target = jumpIndex >= 0 ? args[jumpIndex + 1] : undefined;
    if (line.includes(tag) || (target && ownChains.includes(target))) deletions.push({ table, chain, args });
  }
  return { deletions, chains: [...existing] };
}

export interface SweepResult {
  rulesRemoved: number;
  chainsRemoved: number;
}

/** Remove the container's leftover nat rules and chains (see above); returns what it removed. */
export async function sweepContainerRules(networkName: string, containerId: string): Promise<SweepResult> {
  const ownChains = containerChains(networkName, containerId);
  const result: SweepResult = { rulesRemoved: 0, chainsRemoved: 0 };
  for (const table of ["nat", "filter"]) {
    const save = await runProgram("iptables-save", ["-t", table]);
    const plan = planSweep(save, table, containerId, ownChains);
    for (const d of plan.deletions) {
      await runProgram("iptables", ["-w", "-t", d.table, "-D", d.chain, ...d.args]);
      result.rulesRemoved++;
    }
    for (const chain of plan.chains) {
      await runProgram("iptables", ["-w", "-t", table, "-F", chain]);
      await runProgram("iptables", ["-w", "-t", table, "-X", chain]);
      result.chainsRemoved++;
    }
  }
  return result;
}

/** FailedPrecondition unless the container's portmap DNAT chain exists (what portmap's CHECK should say). */
export async function checkPortmapChain(networkName: string, containerId: string): Promise<void> {
  const chain = containerChains(networkName, containerId)[1] as string;
  try {
    await runProgram("iptables", ["-w", "-t", "nat", "-S", chain]);
  } catch (err) {
    throw new BerthError(
      "FailedPrecondition",
      `the published ports of container ${containerId} are gone (iptables chain ${chain} is missing)`,
      { cause: err },
    );
  }
}

/**
 * portmap makes 127.0.0.1:<hostPort> work by setting route_localnet=1 on
 * the bridge. That also lets a container (one with CAP_NET_RAW, which
 * Docker's default set has) send packets to 127.0.0.1 through the bridge and
 * reach services the host binds to localhost only — CVE-2020-8558 in
 * Kubernetes. Like kube-proxy's fix, drop new connections to 127.0.0.0/8
 * that arrive on the bridge; replies to the host's own DNATed connections
 * are ESTABLISHED and pass.
 */
function localnetGuardRule(bridgeName: string): string[] {
  return [
    "INPUT",
    "-i",
    bridgeName,
    "-d",
    "127.0.0.0/8",
    "-m",
    "comment",
    "--comment",
    `berth: no localnet from ${bridgeName}`,
    "-m",
    "conntrack",
    "!",
    "--ctstate",
    "RELATED,ESTABLISHED,DNAT",
    "-j",
    "DROP",
  ];
}

/** Insert the guard rule unless it is there; returns whether it inserted it. */
export async function ensureLocalnetGuard(bridgeName: string): Promise<boolean> {
  const rule = localnetGuardRule(bridgeName);
  try {
    await runProgram("iptables", ["-w", "-t", "filter", "-C", ...rule]);
    return false;
  } catch {
    await runProgram("iptables", ["-w", "-t", "filter", "-I", ...rule]);
    return true;
  }
}

/** Remove the guard rule (when the bridge itself goes away); absent is fine. */
export async function removeLocalnetGuard(bridgeName: string): Promise<void> {
  const rule = localnetGuardRule(bridgeName);
  for (;;) {
    try {
      await runProgram("iptables", ["-w", "-t", "filter", "-D", ...rule]);
    } catch {
      return;
    }
  }
}
