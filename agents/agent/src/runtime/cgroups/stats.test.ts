import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cgroupModeFromMountinfo, readCgroupMode } from "./mode.ts";
import { parseNetDev } from "./net.ts";
import { cpuPercent, readContainerStats } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "__fixtures__");
const mountinfo = (name: string) => readFile(path.join(here, "../../__fixtures__/mountinfo", name), "utf8");
const procRoot = path.join(fixtures, "proc");

describe("cgroup mode", () => {
  it("reads v1, v2 and hybrid from mountinfo fixtures (the parser facts.ts uses)", async () => {
    expect(cgroupModeFromMountinfo(await mountinfo("v1.txt"))).toBe("v1");
    expect(cgroupModeFromMountinfo(await mountinfo("v2.txt"))).toBe("v2");
    expect(cgroupModeFromMountinfo(await mountinfo("hybrid.txt"))).toBe("hybrid");
    expect(cgroupModeFromMountinfo("")).toBeNull();
  });

  it("reads a mountinfo file", async () => {
    const file = path.join(here, "../../__fixtures__/mountinfo/hybrid.txt");
    expect(await readCgroupMode(file)).toBe("hybrid");
  });
});

describe("readContainerStats on cgroup v1 (and hybrid)", () => {
  const cgroupRoot = path.join(fixtures, "v1");

  it("reads cpuacct, memory (unlimited → null), pids, oom_kill and the network of the init's namespace", async () => {
    for (const mode of ["v1", "hybrid"] as const) {
      const stats = await readContainerStats({
        cgroupsPath: "/berth/web",
        pid: 4242,
        mode,
        cgroupRoot,
        procRoot,
      });
      expect(stats).toEqual({
        cpuUsageNs: 1_500_000_000,
        memoryBytes: 10_485_760,
        memoryLimitBytes: null,
        pids: 3,
        oomKills: 2,
        networkRxBytes: 1230,
        networkTxBytes: 820,
      });
    }
  });

  it("finds cpuacct co-mounted with cpu, reads a limit, falls back to failcnt on old kernels", async () => {
    const stats = await readContainerStats({
      cgroupsPath: "berth/old",
      pid: null,
      mode: "v1",
      cgroupRoot,
      procRoot,
    });
    expect(stats).toEqual({
      cpuUsageNs: 42,
      memoryBytes: 1000,
      memoryLimitBytes: 268_435_456,
      pids: 0,
      oomKills: 5,
      networkRxBytes: 0,
      networkTxBytes: 0,
    });
  });

  it("says NotFound for an unknown cgroup and InvalidArgument for one outside the hierarchy", async () => {
    await expect(
      readContainerStats({ cgroupsPath: "/berth/nope", pid: null, mode: "v1", cgroupRoot }),
    ).rejects.toMatchObject({ code: "NotFound" });
    await expect(
      readContainerStats({ cgroupsPath: "/berth/../../etc", pid: null, mode: "v1", cgroupRoot }),
    ).rejects.toMatchObject({ code: "InvalidArgument" });
  });
});

describe("readContainerStats on cgroup v2", () => {
  const cgroupRoot = path.join(fixtures, "v2");

  it("reads cpu.stat (µs → ns), memory.current, memory.max (max → null), pids and memory.events", async () => {
    const stats = await readContainerStats({
      cgroupsPath: "/berth/web",
      pid: 4242,
      mode: "v2",
      cgroupRoot,
      procRoot,
    });
    expect(stats).toEqual({
      cpuUsageNs: 2_500_000_000,
      memoryBytes: 20_971_520,
      memoryLimitBytes: null,
      pids: 4,
      oomKills: 1,
      networkRxBytes: 1230,
      networkTxBytes: 820,
    });
  });

  it("reads a memory limit, and zero for files a cgroup lacks", async () => {
    const stats = await readContainerStats({
      cgroupsPath: "/berth/limited",
      pid: 999_999,
      mode: "v2",
      cgroupRoot,
      procRoot,
    });
    expect(stats).toMatchObject({
      cpuUsageNs: 10_000,
      memoryLimitBytes: 268_435_456,
      pids: 0,
      oomKills: 0,
      networkRxBytes: 0,
    });
  });

  it("says NotFound for an unknown cgroup", async () => {
    await expect(
      readContainerStats({ cgroupsPath: "/berth/nope", pid: null, mode: "v2", cgroupRoot }),
    ).rejects.toMatchObject({
      code: "NotFound",
    });
  });
});

describe("parseNetDev", () => {
  it("skips the headers and loopback", () => {
    expect(parseNetDev("Inter-|\n face |bytes\n lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n")).toEqual({
      rxBytes: 0,
      txBytes: 0,
    });
    expect(
      parseNetDev("eth0: 10 0 0 0 0 0 0 0 20 0 0 0 0 0 0 0\nveth1:5 0 0 0 0 0 0 0 6 0 0 0 0 0 0 0"),
    ).toEqual({
      rxBytes: 15,
      txBytes: 26,
    });
  });
});

describe("cpuPercent", () => {
  const s = (cpuUsageNs: number) => ({ cpuUsageNs });
  it("is CPU time over wall time, per CPU like docker stats, capped at onlineCpus × 100", () => {
    expect(cpuPercent(s(0), s(500_000_000), 1_000_000_000, 2)).toBe(50);
    expect(cpuPercent(s(0), s(1_500_000_000), 1_000_000_000, 2)).toBe(150);
    expect(cpuPercent(s(0), s(5_000_000_000), 1_000_000_000, 2)).toBe(200);
  });
  it("is 0 when no time passed or the counter went back (a restart)", () => {
    expect(cpuPercent(s(10), s(20), 0, 2)).toBe(0);
    expect(cpuPercent(s(20), s(10), 1000, 2)).toBe(0);
  });
});
