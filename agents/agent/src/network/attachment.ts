import type { PortMapping } from "../runtime/types.ts";
import { primaryAddress } from "./cni-result.ts";
import {
  containerHosts,
  containerResolvConf,
  HOST_HOSTS,
  HOST_RESOLV_CONF,
  hostModeHosts,
  readOptional,
  SYSTEMD_RESOLV_CONF,
} from "./dns.ts";
import { netnsPathFor } from "./netns.ts";
import type { AttachmentRecord } from "./store.ts";
import type { AttachmentInfo, AttachRequest, NetworkAttachment } from "./types.ts";

/** From a stored record to what the runtime and `listAttachments` see. */

/** The container's side of the bridge network. */
export const CONTAINER_IFNAME = "eth0";

function primaryOf(record: AttachmentRecord) {
  const result = record.networks.find((n) => n.ifname === CONTAINER_IFNAME)?.result;
  return result ? primaryAddress(result, CONTAINER_IFNAME) : null;
}

/** The attachment, with resolv.conf and hosts made from the host's files as they are now. */
export async function toAttachment(record: AttachmentRecord): Promise<NetworkAttachment> {
  const base = { containerId: record.containerId, mode: record.mode, ports: record.ports };
  if (record.mode === "host" || !record.netns) {
    return {
      ...base,
      netnsPath: null,
      ipAddress: null,
      gateway: null,
      subnet: null,
      resolvConf: (await readOptional(HOST_RESOLV_CONF)) ?? "",
      hosts: hostModeHosts(await readOptional(HOST_HOSTS), record.hostname),
    };
  }
  const primary = primaryOf(record);
  return {
    ...base,
    netnsPath: netnsPathFor(record.netns),
    ipAddress: primary?.ipAddress ?? null,
    gateway: primary?.gateway ?? null,
    subnet: primary?.subnet ?? null,
    resolvConf: containerResolvConf(
      await readOptional(HOST_RESOLV_CONF),
      await readOptional(SYSTEMD_RESOLV_CONF),
    ),
    hosts: containerHosts(record.hostname, primary?.ipAddress ?? null),
  };
}

export function attachmentInfo(record: AttachmentRecord): AttachmentInfo {
  return {
    containerId: record.containerId,
    mode: record.mode,
    netnsPath: record.netns ? netnsPathFor(record.netns) : null,
    ipAddress: primaryOf(record)?.ipAddress ?? null,
    ports: record.ports,
    hostname: record.hostname,
    complete: record.complete,
    createdAt: record.createdAt,
  };
}

/** Whether a stored attachment already answers a request (a requested host port 0 matches any). */
export function sameRequest(record: AttachmentRecord, request: AttachRequest, ports: PortMapping[]): boolean {
  if (record.mode !== request.mode || record.hostname !== request.hostname) return false;
  if (record.ports.length !== ports.length) return false;
  return ports.every((p, i) => {
    const q = record.ports[i];
    return (
      q !== undefined &&
      q.protocol === p.protocol &&
      q.containerPort === p.containerPort &&
      q.hostIp === p.hostIp &&
      (p.hostPort === 0 || q.hostPort === p.hostPort)
    );
  });
}
