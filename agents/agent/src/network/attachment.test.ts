import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { attachmentInfo, sameRequest, toAttachment } from "./attachment.ts";
import { bridgeConflist, loopbackConflist } from "./conflist.ts";
import type { AttachmentRecord } from "./store.ts";

const result = JSON.parse(
  readFileSync(new URL("./__fixtures__/bridge-result.json", import.meta.url), "utf8"),
);

const record: AttachmentRecord = {
  version: 1,
  containerId: "abc123def4567890",
  mode: "bridge",
  hostname: "web",
  ports: [{ hostIp: "127.0.0.1", hostPort: 18080, containerPort: 8080, protocol: "tcp" }],
  netns: "berth-abc123def456",
  networks: [
    { ifname: "lo", conflist: loopbackConflist(), result: null },
    {
      ifname: "eth0",
      conflist: bridgeConflist({
        networkName: "berth",
        bridgeName: "berth0",
        subnet: "10.89.0.0/24",
        ipamDataDir: "/x",
        firewall: true,
      }),
      result,
    },
  ],
  complete: true,
  createdAt: "2026-11-27T00:00:00.000Z",
};

describe("stored attachments", () => {
  it("become the runtime's view: netns path, address, gateway, subnet, hosts", async () => {
    const attachment = await toAttachment(record);
    expect(attachment).toMatchObject({
      netnsPath: "/run/netns/berth-abc123def456",
      ipAddress: "10.89.0.2",
      gateway: "10.89.0.1",
      subnet: "10.89.0.0/24",
      ports: record.ports,
    });
    expect(attachment.hosts).toContain("10.89.0.2\tweb\n");
    expect(attachmentInfo(record)).toMatchObject({ ipAddress: "10.89.0.2", complete: true });
  });

  it("answer a repeated request, where a requested host port 0 matches the one picked", () => {
    const request = { containerId: record.containerId, mode: "bridge" as const, hostname: "web", ports: [] };
    const port = { hostIp: "127.0.0.1", containerPort: 8080, protocol: "tcp" as const };
    expect(sameRequest(record, request, [{ ...port, hostPort: 18080 }])).toBe(true);
    expect(sameRequest(record, request, [{ ...port, hostPort: 0 }])).toBe(true);
    expect(sameRequest(record, request, [{ ...port, hostPort: 18081 }])).toBe(false);
    expect(sameRequest(record, request, [])).toBe(false);
    expect(sameRequest(record, { ...request, hostname: "other" }, [{ ...port, hostPort: 0 }])).toBe(false);
    expect(sameRequest(record, { ...request, mode: "none" }, [{ ...port, hostPort: 0 }])).toBe(false);
  });
});
