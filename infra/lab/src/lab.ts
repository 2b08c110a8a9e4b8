import { existsSync } from "node:fs";
import { type AgentStart, copyAgent, prepareStateDir, startAgent } from "./agent.ts";
import { LabHost } from "./host.ts";
import { hostLayout, type LabLayout, type LabNaming, labLayout, MAX_HOSTS } from "./layout.ts";
import { createBridge, createHostNetwork, ensureForwardRule, linkExists, setHostLink } from "./network.ts";
import { alive, killAndWait } from "./procs.ts";
import { type HostRecord, type LabRecord, readRecord, writeRecord } from "./record.ts";
import { leftovers, tearDown } from "./teardown.ts";
import { waitFor } from "./wait.ts";

export interface CreateLabOptions extends LabNaming {
  hosts: number;
  /** Tear down what a lab of the same name left behind first (a crashed run); otherwise that is an error. */
  replace?: boolean;
  /** Where `down` reports what it had to sweep up (default: nowhere). */
  note?: (line: string) => void;
}

export interface StartAgentsOptions {
  /** Control-plane URL the agents reach, e.g. http://10.77.0.1:3000 (`lab.gateway` is this machine). */
  server: string;
  /** One token for every host (give it as many uses), or one per host. */
  joinToken: string | ((index: number) => string | Promise<string>);
  logLevel?: string;
}

/**
 * N Berth hosts on this machine: a network namespace each on a lab bridge,
 * each with its own agent, state directory, runc root, cgroup parent and
 * container subnet. Needs root, iproute2, util-linux (nsenter, unshare) and
 * iptables.
 */
export class Lab {
  readonly hosts: LabHost[];

  private constructor(
    readonly layout: LabLayout,
    private record: LabRecord,
    private readonly note: (line: string) => void,
  ) {
    this.hosts = record.hosts.map((h) => new LabHost(hostLayout(layout, h.index)));
  }

  /** Create the bridge and the hosts' namespaces and state directories; agents are started separately. */
  static async create(o: CreateLabOptions): Promise<Lab> {
    if (!Number.isInteger(o.hosts) || o.hosts < 1 || o.hosts > MAX_HOSTS) {
      throw new Error(`a lab has 1 to ${MAX_HOSTS} hosts, not ${o.hosts}`);
    }
    if (process.getuid?.() !== 0) throw new Error("a lab needs root (network namespaces, bridges, runc)");
    const layout = labLayout(o);
    const note = o.note ?? (() => {});
    if ((await readRecord(layout)) || (await linkExists(layout.bridge)) || existsSync(layout.dir)) {
      if (!o.replace) {
        throw new Error(
          `lab ${layout.name} is already up (or left over): run \`down\` first, or pass replace`,
        );
      }
      await tearDown(layout, note);
    }
    const record: LabRecord = {
      name: layout.name,
      dir: layout.dir,
      gateway: layout.gateway,
      createdAt: new Date().toISOString(),
      forwardRule: false,
      hosts: Array.from({ length: o.hosts }, (_, index) => ({
        index,
        agent: null,
        server: null,
        logLevel: null,
      })),
    };
    // Recorded before anything is made, so a failure half-way is still torn down by `down`.
    await writeRecord(layout, record);
    const lab = new Lab(layout, record, note);
    try {
      await copyAgent(layout);
      await createBridge(layout);
      record.forwardRule = await ensureForwardRule(layout);
      await writeRecord(layout, record);
      for (const host of lab.hosts) {
        await createHostNetwork(layout, host.layout);
        await prepareStateDir(host.layout);
      }
    } catch (err) {
      await lab.down().catch(() => {});
      throw err;
    }
    return lab;
  }

  /** The lab a previous `create` (maybe in another process) left running, or null. */
  static async open(o: LabNaming = {}, note: (line: string) => void = () => {}): Promise<Lab | null> {
    const layout = labLayout(o);
    const record = await readRecord(layout);
    return record ? new Lab(layout, record, note) : null;
  }

  get name(): string {
    return this.layout.name;
  }
  /** This machine's address on the lab bridge: a control plane listening here is reachable from every host. */
  get gateway(): string {
    return this.layout.gateway;
  }

  host(index: number): LabHost {
    const host = this.hosts[index];
    if (!host) throw new Error(`lab ${this.name} has no host ${index} (it has ${this.hosts.length})`);
    return host;
  }

  private hostRecord(index: number): HostRecord {
    this.host(index);
    return this.record.hosts[index]!;
  }

  /** Start every host's agent (joining with the token); resolves once every agent has stored its host id. */
  async startAgents(o: StartAgentsOptions, timeoutMs = 30_000): Promise<string[]> {
    for (const host of this.hosts) {
      const joinToken = typeof o.joinToken === "string" ? o.joinToken : await o.joinToken(host.index);
      await this.startAgent(host.index, { server: o.server, joinToken, logLevel: o.logLevel ?? "debug" });
    }
    return Promise.all(this.hosts.map((h) => this.waitForJoin(h.index, timeoutMs)));
  }

  async startAgent(index: number, o: AgentStart): Promise<void> {
    const rec = this.hostRecord(index);
    if (alive(rec.agent)) throw new Error(`the agent of ${this.host(index).name} is already running`);
    rec.agent = await startAgent(this.host(index).layout, o);
    rec.server = o.server;
    rec.logLevel = o.logLevel ?? "debug";
    await writeRecord(this.layout, this.record);
  }

  /** Wait for a host's join; a dead agent fails at once, with the end of its log. */
  async waitForJoin(index: number, timeoutMs = 30_000): Promise<string> {
    const host = this.host(index);
    return waitFor(
      `${host.name} to join (its agent storing a credential)`,
      async () => {
        const id = await host.hostId();
        if (id) return id;
        if (!this.agentRunning(index)) {
          throw new Error(`the agent of ${host.name} exited:\n${(await host.agentLog()).slice(-2000)}`);
        }
        return null;
      },
      timeoutMs,
    );
  }

  agentRunning(index: number): boolean {
    return alive(this.hostRecord(index).agent);
  }

  agentPid(index: number): number | null {
    const ref = this.hostRecord(index).agent;
    return alive(ref) ? ref!.pid : null;
  }

  /** The host dies: SIGKILL its agent and cut its link. Its containers keep running, unreachable. */
  async killHost(index: number): Promise<void> {
    const rec = this.hostRecord(index);
    if (rec.agent) await killAndWait(rec.agent);
    rec.agent = null;
    await writeRecord(this.layout, this.record);
    await setHostLink(this.host(index).layout, false);
  }

  /** The host comes back: link up, its agent restarted on the same state directory (same host id). */
  async reviveHost(index: number): Promise<void> {
    const rec = this.hostRecord(index);
    if (!rec.server) throw new Error(`${this.host(index).name} never had an agent: nothing to revive`);
    await setHostLink(this.host(index).layout, true);
    if (!alive(rec.agent)) {
      await this.startAgent(index, {
        server: rec.server,
        ...(rec.logLevel ? { logLevel: rec.logLevel } : {}),
      });
    }
  }

  /** The agent log of host i so far. */
  agentLog(index: number): Promise<string> {
    return this.host(index).agentLog();
  }

  /** Tear everything down (agents, containers, namespaces, links, bridge, rule, directories). */
  async down(): Promise<void> {
    await tearDown(this.layout, this.note);
  }

  /** What of this lab remains on the machine (after `down`: nothing). */
  leftovers(): Promise<string[]> {
    return leftovers(this.layout);
  }
}
