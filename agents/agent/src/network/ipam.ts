import { readdir, readFile, unlink } from "node:fs/promises";
import { isIP } from "node:net";
import path from "node:path";
import type { CniResult } from "./cni-result.ts";
import { parseIpv4Cidr } from "./cni-result.ts";

/**
 * host-local's reservations: one file per address, <dataDir>/<network>/<ip>,
 * holding "<container id>\r\n<ifname>" (older versions: the id alone), next
 * to its `lock` and `last_reserved_ip.<range>` files.
 */

export interface Reservation {
  ip: string;
  containerId: string;
  ifname: string | null;
  file: string;
}

export function parseReservation(content: string): { containerId: string; ifname: string | null } | null {
  const [id, ifname] = content.split(/\r?\n/);
  const containerId = id?.trim();
  if (!containerId) return null;
  return { containerId, ifname: ifname?.trim() || null };
}

export async function listReservations(dataDir: string, networkName: string): Promise<Reservation[]> {
  const dir = path.join(dataDir, networkName);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: Reservation[] = [];
  for (const name of names) {
    if (isIP(name) === 0) continue;
    const file = path.join(dir, name);
    const content = await readFile(file, "utf8").catch(() => null);
    const parsed = content === null ? null : parseReservation(content);
    if (parsed) out.push({ ip: name, ...parsed, file });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip));
}

/** Remove reservations whose container is not live; returns the removed ones. */
export async function releaseReservations(
  reservations: readonly Reservation[],
  isLive: (containerId: string) => boolean,
): Promise<Reservation[]> {
  const released: Reservation[] = [];
  for (const r of reservations) {
    if (isLive(r.containerId)) continue;
    await unlink(r.file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    released.push(r);
  }
  return released;
}

/**
 * A stand-in for a lost ADD result, from the container's reservations: what
 * DEL needs to find the container's address (the firewall plugin removes
 * its rules only for the addresses in prevResult).
 */
export function resultFromReservations(
  reservations: readonly Reservation[],
  containerId: string,
  subnet: string,
  cniVersion: string,
): CniResult | null {
  const prefix = parseIpv4Cidr(subnet)?.prefix;
  const mine = reservations.filter((r) => r.containerId === containerId && isIP(r.ip) === 4);
  if (prefix === undefined || mine.length === 0) return null;
  return {
    cniVersion,
    interfaces: [],
    ips: mine.map((r) => ({ address: `${r.ip}/${prefix}` })),
  };
}
