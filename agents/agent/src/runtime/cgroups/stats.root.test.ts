/**
 * Real cgroups: a process in a cgroup made for the test, read back through
 * readContainerStats. Needs root; v1/hybrid (these machines) and v2 both work.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rmdir, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../contract/helpers.ts";
import { type CgroupMode, readCgroupMode } from "./mode.ts";
import { DEFAULT_CGROUP_ROOT, readContainerStats } from "./stats.ts";

const isRoot = process.getuid?.() === 0;
const LIMIT = 64 * 1024 * 1024;

describe.skipIf(!isRoot)("readContainerStats on this host's cgroups (root)", () => {
  const cgroupsPath = `/berth-stats-test-${randomBytes(4).toString("hex")}`;
  let mode: CgroupMode;
  let dirs: string[];
  let child: ChildProcess;

  beforeAll(async () => {
    mode = await readCgroupMode();
    dirs =
      mode === "v2"
        ? [`${DEFAULT_CGROUP_ROOT}${cgroupsPath}`]
        : ["memory", "cpuacct", "pids"].map((c) => `${DEFAULT_CGROUP_ROOT}/${c}${cgroupsPath}`);
    for (const dir of dirs) await mkdir(dir);
    await writeFile(`${dirs[0]}/${mode === "v2" ? "memory.max" : "memory.limit_in_bytes"}`, String(LIMIT));
    // A short busy loop (CPU time to measure), then idle until killed.
    child = spawn("sh", ["-c", "read x; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exec sleep 60"], {
      stdio: ["pipe", "ignore", "ignore"],
    });
    for (const dir of dirs) await writeFile(`${dir}/cgroup.procs`, String(child.pid));
    child.stdin!.end("go\n");
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    for (const dir of dirs ?? []) await rmdir(dir).catch(() => {});
  });

  it("reads the process's CPU time, memory and its limit, pids and network bytes", async () => {
    const stats = await waitFor(
      () => readContainerStats({ cgroupsPath, pid: child.pid!, mode }),
      (s) => s.cpuUsageNs > 10_000_000,
      "the busy loop to use 10 ms of CPU",
    );
    expect(stats.memoryBytes).toBeGreaterThan(0);
    expect(stats.memoryLimitBytes).toBe(LIMIT);
    expect(stats.pids).toBeGreaterThanOrEqual(1);
    expect(stats.oomKills).toBe(0);
    // The process shares the host's network namespace here: some interface has traffic or at least exists.
    expect(stats.networkRxBytes).toBeGreaterThanOrEqual(0);
  });

  it("reports an unlimited memory limit as null", async () => {
    await writeFile(
      `${dirs[0]}/${mode === "v2" ? "memory.max" : "memory.limit_in_bytes"}`,
      mode === "v2" ? "max" : "-1",
    );
    expect((await readContainerStats({ cgroupsPath, pid: null, mode })).memoryLimitBytes).toBeNull();
  });
});
