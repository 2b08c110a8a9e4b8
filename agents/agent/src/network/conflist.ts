import { BerthError } from "@berth/protocol";
import type { PortMapping } from "../runtime/types.ts";
import type { ConfList } from "./cni-exec.ts";
import { parseIpv4Cidr } from "./cni-result.ts";

/** The CNI network configurations the agent runs, built from its settings. */

export const CNI_VERSION = "1.0.0";

/** Podman's default network is 10.88.0.0/16; stay clear of it. */
export const DEFAULT_SUBNET = "10.89.0.0/24";
export const DEFAULT_BRIDGE = "berth0";
export const DEFAULT_NETWORK_NAME = "berth";
export const LOOPBACK_NETWORK_NAME = "berth-loopback";

export interface BridgeNetworkOptions {
  networkName: string;
  bridgeName: string;
  /** IPv4 subnet in CIDR form; the gateway (the bridge's address) is its first address. */
  subnet: string;
  /** host-local keeps its reservations in <ipamDataDir>/<networkName>/<ip>. */
  ipamDataDir: string;
  /** Add the firewall plugin (when it is installed). */
  firewall: boolean;
}

/** A normalised IPv4 subnet (`10.89.0.7/24` → `10.89.0.0/24`); InvalidArgument when unusable. */
export function normalizeSubnet(subnet: string): string {
  const parsed = parseIpv4Cidr(subnet);
  if (!parsed)
    throw new BerthError("InvalidArgument", `subnet ${JSON.stringify(subnet)} is not an IPv4 CIDR`);
  if (parsed.prefix < 8 || parsed.prefix > 29) {
    throw new BerthError(
      "InvalidArgument",
      `subnet ${subnet}: the prefix must be between /8 and /29 so there is room for a gateway and containers`,
    );
  }
  return `${parsed.network}/${parsed.prefix}`;
}

/** Linux interface names are at most 15 bytes, without '/', ':' or spaces. */
export function validateBridgeName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(name)) {
    throw new BerthError(
      "InvalidArgument",
      `bridge name ${JSON.stringify(name)} is not a valid interface name (1–15 letters, digits, '_', '.', '-')`,
    );
  }
  return name;
}

/**
 * bridge + host-local: a veth from the container to the bridge, an address
 * from the subnet, the bridge as the default gateway, masquerading outbound.
 * portmap: published ports (DNAT in PREROUTING and OUTPUT). Its `snat`
 * (default true) makes connections to 127.0.0.1:<hostPort> from the host
 * work: such a packet, DNATed in OUTPUT, still has source 127.0.0.1, which
 * the kernel refuses to route out of a non-loopback interface. portmap sets
 * net.ipv4.conf.<bridge>.route_localnet=1 so it may, and marks the packet so
 * CNI-HOSTPORT-MASQ masquerades it to the bridge address, to which the
 * container can reply.
 * firewall: ACCEPT rules for the container's address in FORWARD (a host
 * whose FORWARD policy is DROP, as Docker leaves it, would drop otherwise).
 */
export function bridgeConflist(options: BridgeNetworkOptions): ConfList {
  const subnet = normalizeSubnet(options.subnet);
  const plugins: ConfList["plugins"] = [
    {
      type: "bridge",
      bridge: validateBridgeName(options.bridgeName),
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      ipam: {
        type: "host-local",
        ranges: [[{ subnet }]],
        routes: [{ dst: "0.0.0.0/0" }],
        dataDir: options.ipamDataDir,
      },
    },
    { type: "portmap", capabilities: { portMappings: true }, snat: true },
  ];
  if (options.firewall) plugins.push({ type: "firewall", backend: "iptables" });
  return { cniVersion: CNI_VERSION, name: options.networkName, plugins };
}

/**
 * The loopback plugin, as a network of its own (as containerd's go-cni does)
 * rather than the head of the bridge list: it ignores CNI_IFNAME, and its
 * result would become the bridge plugin's prevResult, which bridge ignores.
 * Kept apart, `none` mode is just this list, and bridge mode is this list
 * then the bridge list.
 */
export function loopbackConflist(): ConfList {
  return { cniVersion: CNI_VERSION, name: LOOPBACK_NETWORK_NAME, plugins: [{ type: "loopback" }] };
}

/** The portmap plugin's runtimeConfig.portMappings entries. */
export function portMappingsRuntimeConfig(
  ports: readonly PortMapping[],
): Array<{ hostPort: number; containerPort: number; protocol: string; hostIP?: string }> {
  return ports.map((p) => ({
    hostPort: p.hostPort,
    containerPort: p.containerPort,
    protocol: p.protocol,
    ...(p.hostIp ? { hostIP: p.hostIp } : {}),
  }));
}

/** The host-local settings of a bridge list (subnet and data directory), if it has one. */
export function hostLocalIpam(list: ConfList): { subnet: string; dataDir: string } | null {
  for (const plugin of list.plugins) {
    const ipam = plugin.ipam as { type?: unknown; ranges?: unknown; dataDir?: unknown } | undefined;
    if (ipam?.type !== "host-local" || typeof ipam.dataDir !== "string") continue;
    const first = Array.isArray(ipam.ranges) ? (ipam.ranges[0] as unknown[] | undefined)?.[0] : undefined;
    const subnet = (first as { subnet?: unknown } | undefined)?.subnet;
    if (typeof subnet === "string") return { subnet, dataDir: ipam.dataDir };
  }
  return null;
}
