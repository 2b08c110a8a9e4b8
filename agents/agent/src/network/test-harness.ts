import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runProgram } from "../exec.ts";
import { createLogger } from "../logger.ts";
import { withTimeout } from "../testing/wait.ts";
import { removeLocalnetGuard } from "./iptables.ts";
import { createNetworkManager, type NetworkManagerOptions } from "./manager.ts";
import type { NetworkAttachment, NetworkManager } from "./types.ts";

/**
 * For the root tests: real CNI plugins, real namespaces. A "container" is a
 * netns with a process started in it by `ip netns exec`. Each test network
 * has its own names — bridge bt<hex>, netns bt<hex>-<id>, network
 * berth-t<hex>, subnet 10.199.<n>.0/24 — so it touches nothing else on the
 * host, and tearDown removes the bridge (which a real agent keeps, like
 * docker0) and its guard rule.
 */

export const newId = (): string => randomBytes(32).toString("hex");

export function nsExec(attachment: NetworkAttachment, argv: string[], timeoutMs = 5000): Promise<string> {
  return runProgram("ip", ["netns", "exec", path.basename(attachment.netnsPath!), ...argv], { timeoutMs });
}

/** Retry `probe` until it resolves, for at most `ms`; the error names what never happened. */
export async function eventually<T>(what: string, probe: () => Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (err) {
      last = err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}: ${(last as Error)?.message}`);
}

export function udpAsk(host: string, port: number, message: string): Promise<string> {
  const socket = createSocket("udp4");
  const answer = new Promise<string>((resolve) => socket.on("message", (m) => resolve(m.toString())));
  socket.send(message, port, host);
  return withTimeout(answer, 1000, `a UDP answer from ${host}:${port}`).finally(() => socket.close());
}

export async function httpGet(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return response.text();
}

export const NOTHING_LEFT = { netns: [], bridgePorts: "", ruleHits: [], reserved: [], states: [] };

export function createTestNetwork() {
  const tag = randomBytes(3).toString("hex");
  const subnetOctet = randomInt(1, 255);
  const options: NetworkManagerOptions = {
    stateDir: "",
    subnet: `10.199.${subnetOctet}.0/24`,
    bridgeName: `bt${tag}`,
    networkName: `berth-t${tag}`,
    netnsPrefix: `bt${tag}-`,
    log: createLogger("silent"),
  };
  const children: ChildProcess[] = [];
  const net = {
    options,
    /** The subnet's first three octets and a dot, e.g. "10.199.42.". */
    prefix: `10.199.${subnetOctet}.`,
    manager: null as unknown as NetworkManager,
    www: "",
    ipamDir: "",

    async setUp(): Promise<void> {
      options.stateDir = await mkdtemp(path.join(tmpdir(), "berth-net-root-"));
      net.www = path.join(options.stateDir, "www");
      net.ipamDir = path.join(options.stateDir, "network", "ipam", options.networkName!);
      await mkdir(net.www);
      await writeFile(path.join(net.www, "index.html"), "hello from a container\n");
      net.manager = createNetworkManager(options);
    },

    /** Stop the processes, clean up, remove the bridge; returns the netns and bridge ports that were still there. */
    async tearDown(): Promise<{ netns: string[]; bridgePorts: string }> {
      await net.stopChildren();
      if (net.manager) await net.manager.cleanup(new Set());
      const bridgePorts = await runProgram("ip", ["-o", "link", "show", "master", options.bridgeName!]).catch(
        () => "",
      );
      await runProgram("ip", ["link", "delete", options.bridgeName!]).catch(() => {});
      await removeLocalnetGuard(options.bridgeName!);
      if (options.stateDir) await rm(options.stateDir, { recursive: true, force: true });
      const netns = (await readdir("/run/netns").catch(() => [] as string[])).filter((n) =>
        n.startsWith(options.netnsPrefix!),
      );
      return { netns, bridgePorts: bridgePorts.trim() };
    },

    /** Start a process inside a container's netns. */
    runInNetns(attachment: NetworkAttachment, argv: string[]): ChildProcess {
      const child = spawn("ip", ["netns", "exec", path.basename(attachment.netnsPath!), ...argv], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      return child;
    },

    async startHttpd(attachment: NetworkAttachment): Promise<void> {
      net.runInNetns(attachment, ["busybox", "httpd", "-f", "-p", "8080", "-h", net.www]);
      await eventually("httpd in the container", () =>
        nsExec(attachment, ["busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/"]),
      );
    },

    /** busybox-static's nc has no UDP mode: a small Node echo server stands in for the container's UDP service. */
    async startUdpEcho(attachment: NetworkAttachment, port: number): Promise<void> {
      const script = `const s=require("dgram").createSocket("udp4");s.on("message",(m,r)=>s.send("pong:"+m,r.port,r.address));s.bind(${port},()=>process.stdout.write("ready\\n"));`;
      const child = net.runInNetns(attachment, [process.execPath, "-e", script]);
      await withTimeout(
        new Promise<void>((resolve) =>
          child.stdout?.on("data", (d: Buffer) => d.includes("ready") && resolve()),
        ),
        5000,
        "the UDP echo server in the container",
      );
    },

    async stopChildren(): Promise<void> {
      for (const child of children.splice(0)) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await withTimeout(exited, 5000, `process ${child.pid} to exit`);
      }
    },

    /** Everything a container could leave behind, as the host shows it. */
    async leftovers(containerId: string, ip: string | null) {
      const short = `${options.netnsPrefix}${containerId.slice(0, 12)}`;
      const netns = (await readdir("/run/netns").catch(() => [] as string[])).filter((n) => n === short);
      // A container's veth, seen from the host, names the netns of its peer.
      const bridgePorts = (await runProgram("ip", ["-o", "link", "show", "master", options.bridgeName!]))
        .split("\n")
        .filter((l) => l.includes(`link-netns ${short}`))
        .join("\n");
      const rules = (await runProgram("iptables-save", [])).split("\n");
      const ruleHits = rules.filter((l) => l.includes(containerId) || (ip !== null && l.includes(`${ip}/`)));
      const reserved: string[] = [];
      for (const f of (await readdir(net.ipamDir).catch(() => [] as string[])).filter((n) => /^\d/.test(n))) {
        if ((await readFile(path.join(net.ipamDir, f), "utf8")).startsWith(containerId)) reserved.push(f);
      }
      const states = (
        await readdir(path.join(options.stateDir, "network", "containers")).catch(() => [] as string[])
      ).filter((f) => f.startsWith(containerId));
      return { netns, bridgePorts, ruleHits, reserved, states };
    },
  };
  return net;
}
