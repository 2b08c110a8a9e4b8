import { createSocket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import type { PortMapping } from "../runtime/types.ts";
import {
  findPublishedConflict,
  normalizePorts,
  portsOverlap,
  probeHostPort,
  reserveHostPorts,
} from "./ports.ts";

const tcp = (hostPort: number, hostIp?: string): PortMapping => ({
  hostPort,
  containerPort: 80,
  protocol: "tcp",
  ...(hostIp ? { hostIp } : {}),
});

describe("port mappings", () => {
  it("normalise 0.0.0.0 and '' to all addresses", () => {
    expect(normalizePorts([tcp(80, "0.0.0.0"), { ...tcp(81), hostIp: "" }])).toEqual([tcp(80), tcp(81)]);
  });

  it("refuse bad ports, protocols, IPv6 host addresses and repeats", () => {
    const bad: PortMapping[][] = [
      [tcp(70000)],
      [{ ...tcp(80), containerPort: 0 }],
      [{ ...tcp(80), protocol: "sctp" as "tcp" }],
      [tcp(80, "::1")],
      [tcp(80, "not-an-ip")],
      [tcp(80), tcp(80, "127.0.0.1")],
    ];
    for (const ports of bad) {
      expect(() => normalizePorts(ports), JSON.stringify(ports)).toThrow(
        expect.objectContaining({ code: "InvalidArgument" }),
      );
    }
    expect(normalizePorts([tcp(80), { ...tcp(80), protocol: "udp" }, tcp(0), tcp(0)])).toHaveLength(4);
  });

  it("overlap when protocol and port match and one address covers the other", () => {
    expect(portsOverlap(tcp(80), tcp(80, "127.0.0.1"))).toBe(true);
    expect(portsOverlap(tcp(80, "127.0.0.1"), tcp(80, "127.0.0.1"))).toBe(true);
    expect(portsOverlap(tcp(80, "127.0.0.1"), tcp(80, "127.0.0.2"))).toBe(false);
    expect(portsOverlap(tcp(80), { ...tcp(80), protocol: "udp" })).toBe(false);
    expect(portsOverlap(tcp(80), tcp(81))).toBe(false);
  });

  it("conflict with ports another container publishes, naming it", () => {
    expect(
      findPublishedConflict([tcp(8080, "127.0.0.1")], [{ containerId: "other", ports: [tcp(8080)] }]),
    ).toEqual({
      port: tcp(8080, "127.0.0.1"),
      owner: "other",
    });
    expect(findPublishedConflict([tcp(8081)], [{ containerId: "other", ports: [tcp(8080)] }])).toBeNull();
  });
});

describe("host port checks (loopback)", () => {
  it("find a TCP port held by a listener, and a free one free", async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(probeHostPort(tcp(port, "127.0.0.1"))).rejects.toMatchObject({ code: "Conflict" });
      await expect(probeHostPort(tcp(port))).rejects.toMatchObject({ code: "Conflict" });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expect(probeHostPort(tcp(port, "127.0.0.1"))).resolves.toBeUndefined();
  });

  it("find a UDP port held by a socket", async () => {
    // The same number over TCP stays free to publish. Another process's connection may hold it
    // (UDP ports and outgoing TCP share the ephemeral range: CI saw this once), so that half tries
    // up to five ports; a probe that took UDP for TCP would fail all five.
    for (let attempt = 1; ; attempt++) {
      const socket = createSocket("udp4");
      await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
      try {
        const mapping: PortMapping = {
          hostIp: "127.0.0.1",
          hostPort: socket.address().port,
          containerPort: 53,
          protocol: "udp",
        };
        await expect(probeHostPort(mapping)).rejects.toMatchObject({ code: "Conflict" });
        const overTcp = await probeHostPort({ ...mapping, protocol: "tcp" }).then(
          () => null,
          (err: unknown) => err,
        );
        if (overTcp === null) return;
        if (attempt === 5) throw overTcp;
      } finally {
        socket.close();
      }
    }
  });

  it("refuse an address that is not on this host", async () => {
    await expect(probeHostPort(tcp(18080, "192.0.2.1"))).rejects.toMatchObject({ code: "InvalidArgument" });
  });

  it("resolve host port 0 to a free port and refuse a published one", async () => {
    const [picked] = await reserveHostPorts([tcp(0, "127.0.0.1")], []);
    expect(picked?.hostPort).toBeGreaterThan(0);
    await expect(
      reserveHostPorts([tcp(picked!.hostPort, "127.0.0.1")], [{ containerId: "c1", ports: [picked!] }]),
    ).rejects.toMatchObject({
      code: "Conflict",
      message: expect.stringContaining("c1"),
    });
  });
});
