/**
 * Container networking with CNI plugins: a bridge per host (bridge +
 * host-local + portmap + firewall), `none` (loopback only) and `host`.
 */
export { CniError, type CniResult, primaryAddress } from "./cni-result.ts";
export { DEFAULT_BRIDGE, DEFAULT_SUBNET } from "./conflist.ts";
export {
  containerHosts,
  containerResolvConf,
  HOST_RESOLV_CONF,
  hostModeHosts,
  readOptional,
  SYSTEMD_RESOLV_CONF,
} from "./dns.ts";
export { checkPortmapChain, containerChains, removeLocalnetGuard } from "./iptables.ts";
export { createNetworkManager, DEFAULT_CNI_BIN_DIRS, type NetworkManagerOptions } from "./manager.ts";
export { netnsNameFor } from "./netns.ts";
export { describePort, portsOverlap, probeHostPort } from "./ports.ts";
export type {
  AttachmentInfo,
  AttachRequest,
  CleanupReport,
  NetworkAttachment,
  NetworkManager,
} from "./types.ts";
