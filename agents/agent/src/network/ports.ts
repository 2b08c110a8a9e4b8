import { createSocket } from "node:dgram";
import { createServer, isIP } from "node:net";
import { BerthError } from "@berth/protocol";
import type { PortMapping } from "../runtime/types.ts";

/**
 * Published ports. portmap only writes DNAT rules; it binds nothing on the
 * host. So a port is free only if no host process listens on it (checked by
 * binding it for a moment) and no other attachment publishes it (checked
 * against the stored attachments: two DNAT rules for one port would fight
 * silently).
 */

/** Check and normalise requested ports: "0.0.0.0" and "" mean all addresses (hostIp absent). */
export function normalizePorts(ports: readonly PortMapping[]): PortMapping[] {
  const out: PortMapping[] = [];
  for (const p of ports) {
    const what = `port mapping ${describePort(p)}`;
    if (p.protocol !== "tcp" && p.protocol !== "udp") {
      throw new BerthError("InvalidArgument", `${what}: the protocol must be tcp or udp`);
    }
    if (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535) {
      throw new BerthError("InvalidArgument", `${what}: the host port must be 0–65535 (0 picks a free one)`);
    }
    if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) {
      throw new BerthError("InvalidArgument", `${what}: the container port must be 1–65535`);
    }
    const hostIp = p.hostIp === "" || p.hostIp === "0.0.0.0" ? undefined : p.hostIp;
    if (hostIp !== undefined && isIP(hostIp) !== 4) {
      throw new BerthError(
        "InvalidArgument",
        `${what}: the host address must be an IPv4 address (Berth's container networks are IPv4 only)`,
      );
    }
    const normalized: PortMapping = {
      hostPort: p.hostPort,
      containerPort: p.containerPort,
      protocol: p.protocol,
    };
    if (hostIp) normalized.hostIp = hostIp;
    const twin = out.find((q) => q.hostPort !== 0 && portsOverlap(q, normalized));
    if (twin) {
      throw new BerthError("InvalidArgument", `${what} repeats the host port of ${describePort(twin)}`);
    }
    out.push(normalized);
  }
  return out;
}

export function describePort(p: PortMapping): string {
  return `${p.hostIp ?? "0.0.0.0"}:${p.hostPort}->${p.containerPort}/${p.protocol}`;
}

/** Two mappings claim the same host socket: same protocol and port, and either address covers the other. */
export function portsOverlap(a: PortMapping, b: PortMapping): boolean {
  if (a.protocol !== b.protocol || a.hostPort !== b.hostPort) return false;
  return a.hostIp === undefined || b.hostIp === undefined || a.hostIp === b.hostIp;
}

export interface PublishedPorts {
  containerId: string;
  ports: readonly PortMapping[];
}

/** The first requested mapping another container already publishes, with its owner. */
export function findPublishedConflict(
  requested: readonly PortMapping[],
  published: readonly PublishedPorts[],
): { port: PortMapping; owner: string } | null {
  for (const port of requested) {
    for (const other of published) {
      if (other.ports.some((q) => portsOverlap(q, port))) return { port, owner: other.containerId };
    }
  }
  return null;
}

/** Bind the host port for a moment: Conflict when something holds it, InvalidArgument for an address not on this host. */
export async function probeHostPort(port: PortMapping): Promise<void> {
  try {
    await bindOnce(port.protocol, port.hostIp ?? "0.0.0.0", port.hostPort);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = `host port ${port.hostPort}/${port.protocol} on ${port.hostIp ?? "all addresses"}`;
    if (code === "EACCES") {
      throw new BerthError("PermissionDenied", `${what}: binding it needs root (or CAP_NET_BIND_SERVICE)`, {
        cause: err,
      });
    }
    if (code === "EADDRINUSE") {
      throw new BerthError("Conflict", `${what} is already in use on this host; publish another port`, {
        cause: err,
      });
    }
    if (code === "EADDRNOTAVAIL") {
      throw new BerthError("InvalidArgument", `${what}: ${port.hostIp} is not an address of this host`, {
        cause: err,
      });
    }
    throw new BerthError("Internal", `cannot check ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** A port the kernel says is free right now (bind to port 0). */
export function pickFreePort(protocol: "tcp" | "udp", hostIp: string | undefined): Promise<number> {
  return bindOnce(protocol, hostIp ?? "0.0.0.0", 0);
}

/** Bind, read the port, close. */
function bindOnce(protocol: "tcp" | "udp", host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    if (protocol === "tcp") {
      const server = createServer();
      server.once("error", reject);
      server.listen({ host, port, exclusive: true }, () => {
        const address = server.address();
        const bound = typeof address === "object" && address ? address.port : port;
        server.close(() => resolve(bound));
      });
      return;
    }
    const socket = createSocket({ type: "udp4", reuseAddr: false });
    socket.once("error", (err) => {
      socket.close();
      reject(err);
    });
    socket.bind({ address: host, port, exclusive: true }, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}

/**
 * Resolve host ports of 0 to free ports no attachment publishes, and check
 * every port is free on the host and unpublished. Changes nothing.
 */
export async function reserveHostPorts(
  requested: readonly PortMapping[],
  published: readonly PublishedPorts[],
): Promise<PortMapping[]> {
  const resolved: PortMapping[] = [];
  for (const port of requested) {
    if (port.hostPort !== 0) {
      resolved.push(port);
      continue;
    }
    let picked: PortMapping | null = null;
    for (let attempt = 0; attempt < 20 && !picked; attempt++) {
      const candidate = { ...port, hostPort: await pickFreePort(port.protocol, port.hostIp) };
      const taken = [...resolved, ...published.flatMap((p) => p.ports)].some((q) =>
        portsOverlap(q, candidate),
      );
      if (!taken) picked = candidate;
    }
    if (!picked) throw new BerthError("Unavailable", `no free host port for ${describePort(port)}`);
    resolved.push(picked);
  }
  const conflict = findPublishedConflict(resolved, published);
  if (conflict) {
    throw new BerthError(
      "Conflict",
      `host port ${conflict.port.hostPort}/${conflict.port.protocol} is already published by container ${conflict.owner}`,
    );
  }
  for (const port of resolved) await probeHostPort(port);
  return resolved;
}
