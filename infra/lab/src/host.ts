import { readFile } from "node:fs/promises";
import path from "node:path";
import { agentCommand, inHostNetns, readHostId } from "./agent.ts";
import { type RunOptions, type RunResult, run } from "./exec.ts";
import { busyboxRootfs } from "./image.ts";
import type { HostLayout } from "./layout.ts";
import { hostLinkUp } from "./network.ts";
import { waitFor } from "./wait.ts";

/** What tests usually look at in a container (the agent's ContainerInfo has more). */
export interface LabContainer {
  id: string;
  name: string;
  image: string;
  status: string;
  pid: number | null;
  exitCode: number | null;
  restartCount: number;
  health: string;
  ipAddress: string | null;
  config: { labels?: Record<string, string> } & Record<string, unknown>;
}

/** One lab host as tests see it: its names and addresses, and what runs inside its namespace. */
export class LabHost {
  constructor(readonly layout: HostLayout) {}

  get index(): number {
    return this.layout.index;
  }
  /** Its address on the lab bridge, e.g. 10.77.0.10 for host 0: what the control plane sees. */
  get address(): string {
    return this.layout.address;
  }
  /** Its network namespace, also the hostname its agent reports. */
  get name(): string {
    return this.layout.netns;
  }
  get stateDir(): string {
    return this.layout.stateDir;
  }
  /** The subnet of its containers (on the agent's bridge inside the namespace). */
  get containerSubnet(): string {
    return this.layout.containerSubnet;
  }

  /** Run a program inside the host's network namespace (e.g. curl a published port); any exit code. */
  exec(argv: readonly string[], o: RunOptions = {}): Promise<RunResult> {
    return run(inHostNetns(this.layout, argv), o);
  }

  /** Run `berth-agent --state-dir <its state> ARGS` in the host's namespace (ps, logs, inspect …). */
  agent(args: readonly string[], o: RunOptions = {}): Promise<RunResult> {
    return run(agentCommand(this.layout, args), o);
  }

  /** Its containers as `berth-agent ps --output json` lists them (running only, unless `all`). */
  async containers(o: { all?: boolean } = {}): Promise<LabContainer[]> {
    const out = await this.agent(["ps", ...(o.all ? ["-a"] : []), "--output", "json"]);
    if (out.code !== 0) throw new Error(`berth-agent ps on ${this.name}: ${out.stderr.trim()}`);
    return JSON.parse(out.stdout) as LabContainer[];
  }

  /**
   * Import a busybox image into this host's image store (`berth-agent
   * import`), from a root filesystem the lab builds once; returns its digest.
   */
  async importBusybox(name = "busybox"): Promise<string> {
    const rootfs = await busyboxRootfs(path.join(this.layout.labDir, "busybox-rootfs"));
    const out = await this.agent(["import", rootfs, name]);
    if (out.code !== 0) throw new Error(`importing busybox into ${this.name}: ${out.stderr.trim()}`);
    return out.stdout.trim();
  }

  /** GET a URL from inside the host: the HTTP status (0 when unreachable) and the body. */
  async http(url: string, timeoutMs = 5000): Promise<{ status: number; body: string; error: string }> {
    const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    const out = await this.exec(["curl", "-sS", "-m", seconds, "-o", "-", "-w", "\n%{http_code}", url], {
      timeoutMs: timeoutMs + 2000,
    });
    const at = out.stdout.lastIndexOf("\n");
    const status = Number(out.stdout.slice(at + 1)) || 0;
    return { status, body: out.stdout.slice(0, Math.max(0, at)), error: out.stderr.trim() };
  }

  /** Its agent's log so far (JSON lines, one `--- lab:` line per start). */
  async agentLog(): Promise<string> {
    try {
      return await readFile(this.layout.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** Wait until the agent's log has a line matching `pattern`; returns that line. */
  waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return waitFor(
      `a line matching ${pattern} in the agent log of ${this.name} (${this.layout.logFile})`,
      async () => (await this.agentLog()).split("\n").find((line) => pattern.test(line)),
      timeoutMs,
    );
  }

  /** The host id the control plane gave it, or null before it joined. */
  hostId(): Promise<string | null> {
    return readHostId(this.layout);
  }

  /** Wait for the join: the agent stores its credential. */
  waitForHostId(timeoutMs = 20_000): Promise<string> {
    return waitFor(`${this.name} to join (its agent storing a credential)`, () => this.hostId(), timeoutMs);
  }

  linkUp(): Promise<boolean> {
    return hostLinkUp(this.layout);
  }
}
