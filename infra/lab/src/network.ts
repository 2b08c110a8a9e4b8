import { existsSync, readFileSync } from "node:fs";
import { attempt, must, run } from "./exec.ts";
import type { HostLayout, LabLayout } from "./layout.ts";

/**
 * The lab's network on this machine: one Linux bridge with the gateway
 * address, and per host a network namespace joined to it by a veth pair.
 * Traffic between hosts is bridged (layer 2), traffic to the gateway is
 * local, so the machine's IPv4 forwarding is not needed and left alone.
 */

export async function linkExists(name: string): Promise<boolean> {
  return (await run(["ip", "link", "show", "dev", name])).code === 0;
}

export async function createBridge(lab: LabLayout): Promise<void> {
  if (!(await linkExists(lab.bridge))) {
    await must(["ip", "link", "add", "name", lab.bridge, "type", "bridge"]);
  }
  const cidr = `${lab.gateway}/${lab.prefixLength}`;
  const addresses = await must(["ip", "-o", "-4", "addr", "show", "dev", lab.bridge]);
  if (!addresses.includes(` ${cidr} `)) {
    await must(["ip", "addr", "add", cidr, "dev", lab.bridge]);
  }
  await must(["ip", "link", "set", lab.bridge, "up"]);
}

export async function createHostNetwork(lab: LabLayout, host: HostLayout): Promise<void> {
  if (!existsSync(host.netnsPath)) await must(["ip", "netns", "add", host.netns]);
  const inNs = ["ip", "-n", host.netns];
  if (!(await linkExists(host.veth))) {
    // A leftover eth0 in the namespace would make the peer's name clash.
    await attempt([...inNs, "link", "delete", "eth0"]);
    await must(["ip", "link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.netns]);
  }
  await must(["ip", "link", "set", host.veth, "master", lab.bridge]);
  await must(["ip", "link", "set", host.veth, "up"]);
  await must([...inNs, "link", "set", "lo", "up"]);
  const cidr = `${host.address}/${lab.prefixLength}`;
  const addresses = await must([...inNs, "-o", "-4", "addr", "show", "dev", "eth0"]);
  if (!addresses.includes(` ${cidr} `)) await must([...inNs, "addr", "add", cidr, "dev", "eth0"]);
  await must([...inNs, "link", "set", "eth0", "up"]);
  await must([...inNs, "route", "replace", "default", "via", lab.gateway, "dev", "eth0"]);
}

/** Cut (or restore) a host's link: its veth end on the bridge goes down (or up). */
export async function setHostLink(host: HostLayout, up: boolean): Promise<void> {
  await must(["ip", "link", "set", host.veth, up ? "up" : "down"]);
}

export async function hostLinkUp(host: HostLayout): Promise<boolean> {
  const out = await run(["ip", "-o", "link", "show", "dev", host.veth]);
  return out.code === 0 && /[<,]UP[,>]/.test(out.stdout);
}

/**
 * When bridged packets go through iptables (br_netfilter with
 * bridge-nf-call-iptables=1), a FORWARD policy of DROP (Docker sets one)
 * would cut lab hosts off from each other: accept what stays on the lab
 * bridge. The rule carries the lab's name so `down` removes exactly it.
 */
export function forwardRule(lab: LabLayout): string[] {
  return [
    "FORWARD",
    "-i",
    lab.bridge,
    "-o",
    lab.bridge,
    "-m",
    "comment",
    "--comment",
    `${lab.name}: between lab hosts`,
    "-j",
    "ACCEPT",
  ];
}

export function bridgedTrafficFiltered(): boolean {
  try {
    return readFileSync("/proc/sys/net/bridge/bridge-nf-call-iptables", "utf8").trim() === "1";
  } catch {
    return false;
  }
}

/** Adds the FORWARD rule when needed; true when it did (so `down` knows to remove it). */
export async function ensureForwardRule(lab: LabLayout): Promise<boolean> {
  if (!bridgedTrafficFiltered()) return false;
  const rule = forwardRule(lab);
  if (!(await attempt(["iptables", "-C", ...rule]))) await must(["iptables", "-I", ...rule]);
  return true;
}

export async function removeForwardRule(lab: LabLayout): Promise<void> {
  for (let i = 0; i < 10 && (await attempt(["iptables", "-D", ...forwardRule(lab)])); i++) {}
}

export async function forwardRulePresent(lab: LabLayout): Promise<boolean> {
  return attempt(["iptables", "-C", ...forwardRule(lab)]);
}
