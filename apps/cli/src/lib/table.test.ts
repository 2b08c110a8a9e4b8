import { describe, expect, it } from "vitest";
import { formatBytes, relativeTime } from "./format.ts";
import { type HostRow, hostsTable } from "./hosts.ts";
import { formatFields, formatTable } from "./table.ts";

describe("formatTable", () => {
  it("pads columns to the widest cell, three spaces apart, with no trailing spaces", () => {
    const out = formatTable(
      ["NAME", "ID", "NOTE"],
      [
        ["web-1", "host_a", "x"],
        ["db", "host_bbbbbb", ""],
      ],
    );
    expect(out).toBe(
      ["NAME    ID            NOTE", "web-1   host_a        x", "db      host_bbbbbb   -", ""].join("\n"),
    );
    for (const line of out.split("\n")) expect(line).toBe(line.trimEnd());
  });

  it("prints only the header for no rows", () => {
    expect(formatTable(["A", "B"], [])).toBe("A   B\n");
  });

  it("shows control characters instead of sending them to the terminal", () => {
    const out = formatTable(["NAME"], [["evil\u001b[2Jname\n"]]);
    expect(out).not.toContain("\u001b");
    expect(out).toContain("evil?[2Jname?");
  });

  it("aligns fields for inspect", () => {
    expect(
      formatFields([
        ["Name", "web-1"],
        ["Last seen", null],
        ["CPUs", 4],
      ]),
    ).toBe("Name:       web-1\nLast seen:  -\nCPUs:       4\n");
  });
});

describe("relativeTime", () => {
  const now = Date.parse("2025-06-01T12:00:00Z");
  it.each([
    ["2025-06-01T12:00:00Z", "just now"],
    ["2025-06-01T11:59:57Z", "3s ago"],
    ["2025-06-01T11:55:00Z", "5m ago"],
    ["2025-06-01T09:00:00Z", "3h ago"],
    ["2025-05-29T12:00:00Z", "3d ago"],
    ["2025-06-02T12:00:00Z", "in 24h"],
    ["2025-06-08T12:00:00Z", "in 7d"],
    ["not a date", "-"],
  ])("%s is %s", (at, text) => {
    expect(relativeTime(at, now)).toBe(text);
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [512, "512 B"],
    [1536, "1.5 KiB"],
    [512 * 1024 ** 2, "512 MiB"],
    [8 * 1024 ** 3 * 0.95, "7.6 GiB"],
    [64 * 1024 ** 3, "64 GiB"],
  ])("%d bytes is %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe("hostsTable", () => {
  const now = Date.parse("2025-06-01T12:00:00Z");
  const host: HostRow = {
    id: "host_7k2m9xq4d8hv3n6p",
    name: "web-1",
    address: "10.0.0.5",
    labels: {},
    state: "ready",
    availability: "active",
    facts: {
      hostname: "web-1",
      os: "Debian GNU/Linux 12",
      arch: "x64",
      kernel: "6.1.0",
      cpus: 4,
      memoryBytes: 8 * 1024 ** 3,
      cgroupMode: "v2",
      runtime: { name: "runc", version: "1.1.12" },
      conmon: null,
      cniPlugins: ["bridge"],
    },
    cpus: 4,
    memoryBytes: 8 * 1024 ** 3,
    agentVersion: "0.1.0",
    lastSeenAt: "2025-06-01T11:59:57.000Z",
    createdAt: "2025-05-01T00:00:00.000Z",
    updatedAt: "2025-06-01T11:59:57.000Z",
    connected: true,
  };

  it("has the documented columns and one row per host", () => {
    const lines = hostsTable(
      [
        host,
        {
          ...host,
          id: "host_x",
          name: "db",
          state: "down",
          facts: { ...host.facts, runtime: null },
          address: null,
        },
      ],
      now,
    )
      .trimEnd()
      .split("\n");
    expect(lines[0]!.split(/\s{2,}/)).toEqual([
      "NAME",
      "ID",
      "STATE",
      "ADDRESS",
      "CPUS",
      "MEMORY",
      "RUNTIME",
      "AGENT",
      "LAST SEEN",
    ]);
    expect(lines[1]!.split(/\s{2,}/)).toEqual([
      "web-1",
      "host_7k2m9xq4d8hv3n6p",
      "ready",
      "10.0.0.5",
      "4",
      "8 GiB",
      "runc 1.1.12",
      "0.1.0",
      "3s ago",
    ]);
    expect(lines[2]!.split(/\s{2,}/)).toEqual([
      "db",
      "host_x",
      "down",
      "-",
      "4",
      "8 GiB",
      "none",
      "0.1.0",
      "3s ago",
    ]);
  });

  it("says when a ready host's agent is not connected", () => {
    expect(hostsTable([{ ...host, connected: false }], now)).toContain("ready (disconnected)");
  });
});
