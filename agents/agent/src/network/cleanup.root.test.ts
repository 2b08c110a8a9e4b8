import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runProgram } from "../exec.ts";
import { describeRoot } from "../testing/root.ts";
import { ensureLocalnetGuard, removeLocalnetGuard } from "./iptables.ts";
import { createNetworkManager } from "./manager.ts";
import { pickFreePort } from "./ports.ts";
import { createTestNetwork, NOTHING_LEFT, newId, nsExec } from "./test-harness.ts";

/** Crash cleanup and the localnet guard, with real CNI plugins and namespaces (see test-harness.ts). */

const net = createTestNetwork();

describeRoot("container network cleanup and isolation (root)", () => {
  beforeAll(() => net.setUp());
  afterAll(async () => {
    expect(await net.tearDown()).toEqual({ netns: [], bridgePorts: "" });
  });

  it("a container cannot reach the host's localhost-only services through the bridge (CVE-2020-8558)", async () => {
    const secret = createServer((socket) => socket.end("secret\n"));
    await new Promise<void>((resolve) => secret.listen(0, "127.0.0.1", resolve));
    const port = (secret.address() as { port: number }).port;
    const x = await net.manager.attach({
      containerId: newId(),
      mode: "bridge",
      hostname: "mallory",
      ports: [{ hostIp: "127.0.0.1", hostPort: 0, containerPort: 80, protocol: "tcp" }],
    });
    try {
      // portmap set route_localnet on the bridge (that is how 127.0.0.1:<hostPort> works) ...
      expect(
        (await runProgram("sysctl", ["-n", `net.ipv4.conf.${net.options.bridgeName}.route_localnet`])).trim(),
      ).toBe("1");
      // ... so a container that sends to 127.0.0.1 through its gateway would reach the host's loopback.
      await nsExec(x, ["sysctl", "-qw", "net.ipv4.conf.eth0.route_localnet=1"]);
      await nsExec(x, ["ip", "addr", "flush", "dev", "lo"]);
      await nsExec(x, ["ip", "route", "replace", "127.0.0.1/32", "via", x.gateway!, "dev", "eth0"]);
      const probe = () => nsExec(x, ["busybox", "nc", "-w", "1", "127.0.0.1", String(port)]);
      await expect(probe()).rejects.toThrow();
      // The control: without the guard rule the same probe gets through.
      await removeLocalnetGuard(net.options.bridgeName!);
      try {
        expect(await probe()).toBe("secret\n");
      } finally {
        await ensureLocalnetGuard(net.options.bridgeName!);
      }
      await expect(probe()).rejects.toThrow();
    } finally {
      secret.close();
      await net.manager.detach(x.containerId);
    }
  });

  it("cleanup after a crash removes what dead containers left, even when their netns is already gone", async () => {
    const tcpPort = await pickFreePort("tcp", "127.0.0.1");
    const dead = await net.manager.attach({
      containerId: newId(),
      mode: "bridge",
      hostname: "dead",
      ports: [{ hostIp: "127.0.0.1", hostPort: tcpPort, containerPort: 8080, protocol: "tcp" }],
    });
    const netnsLost = await net.manager.attach({
      containerId: newId(),
      mode: "bridge",
      hostname: "lost",
      ports: [],
    });
    const quiet = await net.manager.attach({
      containerId: newId(),
      mode: "none",
      hostname: "quiet",
      ports: [],
    });
    const alive = await net.manager.attach({
      containerId: newId(),
      mode: "bridge",
      hostname: "alive",
      ports: [],
    });
    // The agent "crashes": its manager is gone; one netns vanished behind its back (bridge's DEL cannot undo masquerading then).
    await runProgram("ip", ["netns", "delete", path.basename(netnsLost.netnsPath!)]);
    // A reservation host-local kept for a container nobody knows.
    const strayId = newId();
    await writeFile(path.join(net.ipamDir, `${net.prefix}250`), `${strayId}\r\neth0`);

    const restarted = createNetworkManager(net.options);
    const report = await restarted.cleanup(new Set([alive.containerId]));
    expect(report.failed).toEqual([]);
    expect(report.removed.sort()).toEqual(
      [dead.containerId, netnsLost.containerId, quiet.containerId, strayId].sort(),
    );
    for (const x of [dead, netnsLost, quiet]) {
      expect(await net.leftovers(x.containerId, x.ipAddress)).toMatchObject({
        netns: [],
        ruleHits: [],
        reserved: [],
        states: [],
      });
    }
    expect(await net.leftovers(strayId, null)).toMatchObject({ reserved: [] });
    expect((await restarted.listAttachments()).map((x) => x.containerId)).toEqual([alive.containerId]);
    await restarted.check(alive.containerId);

    expect(await restarted.cleanup(new Set([alive.containerId]))).toEqual({ removed: [], failed: [] });
    await restarted.detach(alive.containerId);
    expect(await net.leftovers(alive.containerId, alive.ipAddress)).toEqual(NOTHING_LEFT);
  });
});
