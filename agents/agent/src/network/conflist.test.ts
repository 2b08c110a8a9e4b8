import { describe, expect, it } from "vitest";
import { type ConfList, pluginExecConfig } from "./cni-exec.ts";
import {
  bridgeConflist,
  hostLocalIpam,
  loopbackConflist,
  normalizeSubnet,
  portMappingsRuntimeConfig,
  validateBridgeName,
} from "./conflist.ts";

const options = {
  networkName: "berth",
  bridgeName: "berth0",
  subnet: "10.89.0.0/24",
  ipamDataDir: "/var/lib/berth/network/ipam",
  firewall: true,
};

describe("bridge conflist", () => {
  it("chains bridge (host-local IPAM), portmap and firewall under one name and CNI 1.0.0", () => {
    const list = bridgeConflist(options);
    expect(list.cniVersion).toBe("1.0.0");
    expect(list.name).toBe("berth");
    expect(list.plugins.map((p) => p.type)).toEqual(["bridge", "portmap", "firewall"]);
    expect(list.plugins[0]).toMatchObject({
      bridge: "berth0",
      isGateway: true,
      ipMasq: true,
      ipam: {
        type: "host-local",
        ranges: [[{ subnet: "10.89.0.0/24" }]],
        routes: [{ dst: "0.0.0.0/0" }],
        dataDir: "/var/lib/berth/network/ipam",
      },
    });
    expect(list.plugins[1]).toMatchObject({ capabilities: { portMappings: true }, snat: true });
    expect(list.plugins[2]).toMatchObject({ backend: "iptables" });
  });

  it("leaves the firewall plugin out when it is not installed", () => {
    expect(bridgeConflist({ ...options, firewall: false }).plugins.map((p) => p.type)).toEqual([
      "bridge",
      "portmap",
    ]);
  });

  it("normalises the subnet and refuses unusable ones", () => {
    expect(bridgeConflist({ ...options, subnet: "10.89.0.77/24" }).plugins[0]).toMatchObject({
      ipam: { ranges: [[{ subnet: "10.89.0.0/24" }]] },
    });
    expect(normalizeSubnet("10.199.3.0/24")).toBe("10.199.3.0/24");
    for (const bad of ["10.89.0.0", "10.89.0.0/33", "300.1.1.1/24", "10.0.0.0/30", "fd00::/64", "x"]) {
      expect(() => normalizeSubnet(bad), bad).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
    }
  });

  it("refuses bridge names that are not interface names", () => {
    expect(validateBridgeName("berth-t1a2b3")).toBe("berth-t1a2b3");
    for (const bad of ["", "a".repeat(16), "br/0", "br 0", "-br"]) {
      expect(() => validateBridgeName(bad), bad).toThrow(
        expect.objectContaining({ code: "InvalidArgument" }),
      );
    }
  });

  it("finds the host-local subnet and data directory again", () => {
    expect(hostLocalIpam(bridgeConflist(options))).toEqual({
      subnet: "10.89.0.0/24",
      dataDir: "/var/lib/berth/network/ipam",
    });
    expect(hostLocalIpam(loopbackConflist())).toBeNull();
  });
});

describe("execution configuration of one plugin (CNI spec section 4)", () => {
  const list: ConfList = bridgeConflist(options);
  const prev = { cniVersion: "1.0.0", ips: [{ address: "10.89.0.2/24" }] };
  const portMappings = portMappingsRuntimeConfig([
    { hostIp: "127.0.0.1", hostPort: 18080, containerPort: 8080, protocol: "tcp" },
    { hostPort: 5353, containerPort: 53, protocol: "udp" },
  ]);

  it("inserts the list's name and cniVersion, and prevResult when there is one", () => {
    const first = pluginExecConfig(list, list.plugins[0]!, null, { portMappings });
    expect(first).toMatchObject({ type: "bridge", name: "berth", cniVersion: "1.0.0" });
    expect(first).not.toHaveProperty("prevResult");
    const second = pluginExecConfig(list, list.plugins[1]!, prev, { portMappings });
    expect(second.prevResult).toEqual(prev);
  });

  it("offers runtimeConfig only for capabilities the plugin declares", () => {
    const bridge = pluginExecConfig(list, list.plugins[0]!, null, { portMappings });
    expect(bridge).not.toHaveProperty("runtimeConfig");
    const portmap = pluginExecConfig(list, list.plugins[1]!, prev, { portMappings, bandwidth: { x: 1 } });
    expect(portmap.runtimeConfig).toEqual({
      portMappings: [
        { hostIP: "127.0.0.1", hostPort: 18080, containerPort: 8080, protocol: "tcp" },
        { hostPort: 5353, containerPort: 53, protocol: "udp" },
      ],
    });
  });

  it("does not change the list it was given", () => {
    const before = JSON.stringify(list);
    pluginExecConfig(list, list.plugins[1]!, prev, { portMappings });
    expect(JSON.stringify(list)).toBe(before);
  });
});
