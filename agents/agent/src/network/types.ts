import type { NetworkMode, PortMapping } from "../runtime/types.ts";

/** What a container needs to join a network. */
export interface AttachRequest {
  containerId: string;
  mode: NetworkMode;
  /** Published ports (bridge mode only). A hostPort of 0 picks a free port. */
  ports: PortMapping[];
  hostname: string;
}

/** A container's network, as the runtime needs it to build the OCI bundle. */
export interface NetworkAttachment {
  containerId: string;
  mode: NetworkMode;
  /** The network namespace to put in the OCI spec; null in host mode (share the host's). */
  netnsPath: string | null;
  ipAddress: string | null;
  gateway: string | null;
  /** The container's subnet in CIDR form, e.g. 10.89.0.0/24. */
  subnet: string | null;
  /** Published ports, with every host port resolved (no 0 left). */
  ports: PortMapping[];
  /** Content for the container's /etc/resolv.conf. */
  resolvConf: string;
  /** Content for the container's /etc/hosts. */
  hosts: string;
}

/** A stored attachment, as `listAttachments` reports it. */
export interface AttachmentInfo {
  containerId: string;
  mode: NetworkMode;
  netnsPath: string | null;
  ipAddress: string | null;
  ports: PortMapping[];
  hostname: string;
  /** False while an attach is in progress, or when one was interrupted (a crash): cleanup removes it. */
  complete: boolean;
  createdAt: string;
}

export interface CleanupReport {
  /** Container ids (or netns names, for a netns whose container is unknown) whose leftovers were removed. */
  removed: string[];
  /** Leftovers that could not be removed; the next cleanup tries again. */
  failed: Array<{ id: string; message: string }>;
}

export interface NetworkManager {
  attach(request: AttachRequest): Promise<NetworkAttachment>;
  /** Undo `attach`. Idempotent: detaching twice, or an id never attached, is fine. */
  detach(containerId: string): Promise<void>;
  /** Ask the plugins (CNI CHECK) whether a container's network is still as attached; throws if not. */
  check(containerId: string): Promise<void>;
  /** After a crash: remove every attachment, netns and IPAM reservation of a container not in `liveContainerIds`. */
  cleanup(liveContainerIds: ReadonlySet<string>): Promise<CleanupReport>;
  listAttachments(): Promise<AttachmentInfo[]>;
}
