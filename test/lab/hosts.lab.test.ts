import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { getHost } from "@berth/control";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { waitFor } from "../support/wait.ts";
import {
  describeLab,
  type LabWithControlPlane,
  processRunning,
  startLabWithControlPlane,
  TEST_LAB,
  waitAllReady,
  waitHostState,
} from "./support.ts";

// Three lab hosts (network namespaces, an agent each) against a real control plane.
const TTL_MS = 3000;

describeLab("lab hosts against a real control plane", () => {
  let env: LabWithControlPlane;

  beforeAll(async () => {
    env = await startLabWithControlPlane({
      hosts: 3,
      hostTtlMs: TTL_MS,
      labels: (i) => ({ zone: ["a", "b", "c"][i]! }),
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  const showLogsOnFailure = () =>
    onTestFailed(async () => {
      for (const host of env.lab.hosts) {
        process.stderr.write(
          `--- agent log of ${host.name} (tail)\n${(await host.agentLog()).slice(-3000)}\n`,
        );
      }
    });

  it("three hosts join and are ready, each with its own address, name and state", async () => {
    showLogsOnFailure();
    await waitAllReady(env);
    const hosts = await Promise.all(env.hostIds.map((id) => getHost(env.database.db, id)));
    expect(new Set(env.hostIds).size).toBe(3);
    expect(hosts.map((h) => h.address)).toEqual(["10.76.0.10", "10.76.0.11", "10.76.0.12"]);
    expect(hosts.map((h) => h.name)).toEqual(["blabtest-0", "blabtest-1", "blabtest-2"]);
    expect(hosts.map((h) => h.state)).toEqual(["ready", "ready", "ready"]);
    expect(hosts.map((h) => h.labels.zone)).toEqual(["a", "b", "c"]);
    // Each agent runs in its own namespace and reaches the control plane across the lab bridge.
    for (const host of env.lab.hosts) {
      const healthz = await host.http(`${env.cp.url}/healthz`);
      expect(healthz.status, `${host.name} → ${env.cp.url}/healthz: ${healthz.error}`).toBe(200);
      const addresses = (await host.exec(["ip", "-o", "-4", "addr", "show", "dev", "eth0"])).stdout;
      expect(addresses).toContain(`inet ${host.address}/24`);
    }
  });

  it("a killed host goes down within its TTL and comes back as the same host when revived", async () => {
    showLogsOnFailure();
    await waitAllReady(env);
    const victim = env.lab.host(1);
    const id = env.hostIds[1]!;
    await env.lab.killHost(1);
    const killedAt = Date.now();
    expect(env.lab.agentRunning(1)).toBe(false);
    expect(await victim.linkUp()).toBe(false);
    // The link is cut: the host no longer reaches the control plane.
    expect((await victim.http(`${env.cp.url}/healthz`, 1000)).status).toBe(0);
    await waitHostState(env, 1, "down", TTL_MS + 5000);
    // Down within its TTL (counted from its last heartbeat, up to one before the kill), plus the monitor's tick.
    const downAfter = Date.now() - killedAt;
    expect(downAfter).toBeGreaterThanOrEqual(TTL_MS - 1000);
    expect(downAfter).toBeLessThanOrEqual(TTL_MS + 2500);
    // The others stay ready.
    expect(await env.hostState(0)).toBe("ready");
    expect(await env.hostState(2)).toBe("ready");

    await env.lab.reviveHost(1);
    await waitFor(
      "the revived host to reconnect and be ready",
      async () => env.connected(1) && (await env.hostState(1)) === "ready",
      20_000,
    );
    expect(await victim.hostId()).toBe(id);
    expect((await getHost(env.database.db, id)).address).toBe(victim.address);
    expect((await victim.agentLog()).match(/--- lab: agent of blabtest-1 starting/g)).toHaveLength(2);
  });

  it("teardown leaves no namespace, link, process, mount, rule or directory behind", async () => {
    const pids = env.lab.hosts.map((h) => env.lab.agentPid(h.index)).filter((p): p is number => p !== null);
    expect(pids).toHaveLength(3);
    await env.lab.down();
    expect(await env.lab.leftovers()).toEqual([]);
    // Checked again without the lab's own code:
    expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(TEST_LAB.name);
    expect(execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })).not.toContain(TEST_LAB.name);
    expect(execFileSync("iptables", ["-S", "FORWARD"], { encoding: "utf8" })).not.toContain(TEST_LAB.name);
    for (const pid of pids) expect(processRunning(pid), `agent pid ${pid} still runs`).toBe(false);
    expect(existsSync(env.lab.layout.dir)).toBe(false);
    expect(existsSync(env.lab.layout.runDir)).toBe(false);
  });
});
