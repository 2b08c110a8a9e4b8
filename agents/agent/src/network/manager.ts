import path from "node:path";
import { BerthError } from "@berth/protocol";
import type { Logger } from "../logger.ts";
import type { NetworkMode, PortMapping } from "../runtime/types.ts";
import { attachmentInfo, CONTAINER_IFNAME, sameRequest, toAttachment } from "./attachment.ts";
import { addNetworkList, type CniContext, checkNetworkList, findPlugin } from "./cni-exec.ts";
import { CniError } from "./cni-result.ts";
import {
  bridgeConflist,
  DEFAULT_BRIDGE,
  DEFAULT_NETWORK_NAME,
  DEFAULT_SUBNET,
  loopbackConflist,
  normalizeSubnet,
  portMappingsRuntimeConfig,
  validateBridgeName,
} from "./conflist.ts";
import { validateHostname } from "./dns.ts";
import { createBridgeHostSetup } from "./host-setup.ts";
import { checkPortmapChain } from "./iptables.ts";
import { KeyedLock } from "./lock.ts";
import { createNetns, DEFAULT_NETNS_PREFIX, netnsExists, netnsNameFor, netnsPathFor } from "./netns.ts";
import { normalizePorts, reserveHostPorts } from "./ports.ts";
import { cleanupLeftovers } from "./reaper.ts";
import { type AttachmentRecord, createAttachmentStore, validateContainerId } from "./store.ts";
import { combineFailures, type PluginEnv, teardownRecord } from "./teardown.ts";
import type { AttachmentInfo, AttachRequest, NetworkAttachment, NetworkManager } from "./types.ts";

export interface NetworkManagerOptions {
  /** The agent's state directory; network state lives in <stateDir>/network. */
  stateDir: string;
  /** This host's container subnet (IPv4 CIDR). The control plane will assign one per host. */
  subnet?: string;
  bridgeName?: string;
  /** The CNI network name: host-local's directory, the plugins' iptables comments. */
  networkName?: string;
  cniBinDirs?: readonly string[];
  /** Named netns are <prefix><first 12 of the container id>; agents sharing /run/netns need distinct ones. */
  netnsPrefix?: string;
  /** PATH for the plugins, which run iptables. */
  pluginPath?: string;
  pluginTimeoutMs?: number;
  /** Add the firewall plugin to the bridge list; default: when it is installed. */
  firewall?: boolean;
  log: Logger;
}

export const DEFAULT_CNI_BIN_DIRS = ["/usr/lib/cni", "/opt/cni/bin"] as const;
const DEFAULT_PLUGIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** The lock that makes "check the ports, then record them" one step across concurrent attaches. */
const PORTS_LOCK = "\0ports";

export function createNetworkManager(options: NetworkManagerOptions): NetworkManager {
  const subnet = normalizeSubnet(options.subnet ?? DEFAULT_SUBNET);
  const bridgeName = validateBridgeName(options.bridgeName ?? DEFAULT_BRIDGE);
  const networkName = options.networkName ?? DEFAULT_NETWORK_NAME;
  const netnsPrefix = options.netnsPrefix ?? DEFAULT_NETNS_PREFIX;
  const networkDir = path.join(options.stateDir, "network");
  const ipamDir = path.join(networkDir, "ipam");
  const store = createAttachmentStore(path.join(networkDir, "containers"));
  const env: PluginEnv = {
    binDirs: options.cniBinDirs ?? DEFAULT_CNI_BIN_DIRS,
    pathEnv: options.pluginPath ?? DEFAULT_PLUGIN_PATH,
    timeoutMs: options.pluginTimeoutMs ?? 60_000,
  };
  const log = options.log.child({ component: "network" });
  const locks = new KeyedLock();
  /** Containers being attached right now: live, whatever cleanup's caller says. */
  const inFlight = new Set<string>();
  let firewallInstalled: Promise<boolean> | null = null;
  const prepareHostForBridge = createBridgeHostSetup(bridgeName, log);

  async function networksFor(mode: NetworkMode): Promise<AttachmentRecord["networks"]> {
    if (mode === "host") return [];
    const loopback = { ifname: "lo", conflist: loopbackConflist(), result: null };
    if (mode === "none") return [loopback];
    firewallInstalled ??=
      options.firewall !== undefined
        ? Promise.resolve(options.firewall)
        : findPlugin("firewall", env.binDirs).then((file) => file !== null);
    const firewall = await firewallInstalled;
    const bridge = bridgeConflist({ networkName, bridgeName, subnet, ipamDataDir: ipamDir, firewall });
    return [loopback, { ifname: CONTAINER_IFNAME, conflist: bridge, result: null }];
  }

  function contextFor(record: AttachmentRecord, ifname: string): CniContext {
    return {
      containerId: record.containerId,
      netns: record.netns ? netnsPathFor(record.netns) : "",
      ifname,
      ...env,
      runtimeConfig: { portMappings: portMappingsRuntimeConfig(record.ports) },
    };
  }

  /** Check ports and names, then write the not-yet-complete record: from here on, detach can undo it. */
  async function claim(request: AttachRequest, ports: PortMapping[]): Promise<AttachmentRecord> {
    const networks = await networksFor(request.mode);
    return locks.run(PORTS_LOCK, async () => {
      const others = (await store.list()).records.filter((r) => r.containerId !== request.containerId);
      const netns = request.mode === "host" ? null : netnsNameFor(request.containerId, netnsPrefix);
      if (netns && (others.some((r) => r.netns === netns) || (await netnsExists(netns)))) {
        throw new BerthError(
          "Conflict",
          `network namespace ${netns} is in use by another container (the first 12 characters of the ids are the same)`,
        );
      }
      const resolved = await reserveHostPorts(ports, others);
      const record: AttachmentRecord = {
        version: 1,
        containerId: request.containerId,
        mode: request.mode,
        hostname: request.hostname,
        ports: resolved,
        netns,
        networks,
        complete: request.mode === "host",
        createdAt: new Date().toISOString(),
      };
      await store.write(record);
      return record;
    });
  }

  async function attachFresh(request: AttachRequest, ports: PortMapping[]): Promise<NetworkAttachment> {
    const record = await claim(request, ports);
    if (request.mode === "host") return toAttachment(record);
    const started = Date.now();
    try {
      await createNetns(record.netns!);
      if (request.mode === "bridge") await prepareHostForBridge();
      for (const network of record.networks) {
        try {
          network.result = await addNetworkList(network.conflist, contextFor(record, network.ifname));
        } catch (err) {
          if (err instanceof CniError) network.result = err.prevResult;
          throw err;
        }
      }
      record.complete = true;
      await store.write(record);
    } catch (err) {
      const failures = await teardownRecord(record, env, log);
      if (failures.length === 0) await store.remove(record.containerId);
      else
        log.error(
          { containerId: record.containerId, err: combineFailures("rollback", failures) },
          "rollback incomplete",
        );
      throw err;
    }
    const attachment = await toAttachment(record);
    log.info(
      {
        containerId: record.containerId,
        mode: record.mode,
        ip: attachment.ipAddress,
        ms: Date.now() - started,
      },
      "attached container network",
    );
    return attachment;
  }

  async function detachLocked(containerId: string): Promise<void> {
    let record: AttachmentRecord | null;
    try {
      record = await store.read(containerId);
    } catch (err) {
      // A corrupt record: undo what the current settings would have created.
      log.warn({ containerId, err }, "network state file is corrupt; cleaning up from the current settings");
      record = await unknownRecord(containerId, netnsNameFor(containerId, netnsPrefix));
    }
    if (!record) return;
    const failures = await teardownRecord(record, env, log);
    if (failures.length > 0)
      throw combineFailures(`detaching the network of container ${containerId}`, failures);
    await store.remove(containerId);
    log.info({ containerId, mode: record.mode }, "detached container network");
  }

  /** A record for leftovers whose own record is lost: the current lists, no results (IPAM fills them in). */
  async function unknownRecord(containerId: string, netns: string | null): Promise<AttachmentRecord> {
    return {
      version: 1,
      containerId,
      mode: "bridge",
      hostname: "unknown",
      ports: [],
      netns,
      networks: await networksFor("bridge"),
      complete: false,
      createdAt: new Date().toISOString(),
    };
  }

  return {
    async attach(request) {
      const containerId = validateContainerId(request.containerId);
      const hostname = validateHostname(request.hostname);
      if (!["bridge", "host", "none"].includes(request.mode)) {
        throw new BerthError(
          "InvalidArgument",
          `network mode ${JSON.stringify(request.mode)} is not bridge, host or none`,
        );
      }
      const ports = normalizePorts(request.ports);
      if (request.mode !== "bridge" && ports.length > 0) {
        throw new BerthError(
          "InvalidArgument",
          `ports can be published only in bridge mode, not ${request.mode}`,
        );
      }
      const normalized = { ...request, containerId, hostname };
      return locks.run(containerId, async () => {
        inFlight.add(containerId);
        try {
          const existing = await store.read(containerId).catch(() => null);
          if (existing?.complete && sameRequest(existing, normalized, ports)) return toAttachment(existing);
          // A different or interrupted attachment of the same container: undo it first.
          await detachLocked(containerId);
          return await attachFresh(normalized, ports);
        } finally {
          inFlight.delete(containerId);
        }
      });
    },

    detach(containerId) {
      validateContainerId(containerId);
      return locks.run(containerId, () => detachLocked(containerId));
    },

    async check(containerId) {
      const record = await store.read(validateContainerId(containerId));
      if (!record) throw new BerthError("NotFound", `container ${containerId} has no network attachment`);
      if (!record.complete) {
        throw new BerthError("FailedPrecondition", `the network attachment of ${containerId} is incomplete`);
      }
      if (record.netns && !(await netnsExists(record.netns))) {
        throw new BerthError(
          "NotFound",
          `network namespace ${record.netns} of container ${containerId} is gone`,
        );
      }
      for (const network of record.networks) {
        if (!network.result) continue;
        // portmap 1.1.1 (Debian 12) fails CHECK on an IPv4-only container: it looks for ip6tables
        // rules it never made (containernetworking/plugins#819). Its chain is checked directly instead.
        const isPortmap = (p: { type: string }) => p.type === "portmap";
        await checkNetworkList(
          network.conflist,
          contextFor(record, network.ifname),
          network.result,
          isPortmap,
        );
        if (record.ports.length > 0 && network.conflist.plugins.some(isPortmap)) {
          await checkPortmapChain(network.conflist.name, containerId);
        }
      }
    },

    cleanup(liveContainerIds) {
      const isLive = (id: string) => liveContainerIds.has(id) || inFlight.has(id);
      return cleanupLeftovers({
        store,
        isLive,
        liveIds: [...liveContainerIds, ...inFlight],
        netnsPrefix,
        ipam: { dataDir: ipamDir, networkName },
        detach: (id) => locks.run(id, () => detachLocked(id)),
        teardownUnknown: async (id, netns) => {
          const record = await unknownRecord(id ?? `${netns}`, netns);
          if (!id) record.networks = []; // no id to give the plugins: the netns goes, and the veth with it
          const failures = await teardownRecord(record, env, log);
          if (failures.length > 0)
            throw combineFailures(`removing leftover network namespace ${netns}`, failures);
        },
        log,
      });
    },

    async listAttachments(): Promise<AttachmentInfo[]> {
      return (await store.list()).records.map(attachmentInfo);
    },
  };
}
