/**
 * The agent's container runtime, as every part of it sees it: what a user
 * asks for (`ContainerConfig`), what a container is (`ContainerInfo`), and the
 * `ContainerRuntime` interface with two implementations — the real one (runc
 * under conmon) and the simulated one hollow agents use. One contract test
 * suite runs against both.
 */

export type NetworkMode = "bridge" | "host" | "none";

export interface PortMapping {
  /** Host address to bind; all addresses when absent. */
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp";
}

export interface MountSpec {
  /** `volume`: a named volume the agent manages; `bind`: a host path; `tmpfs`: memory. */
  type: "volume" | "bind" | "tmpfs";
  /** Volume name or host path (empty for tmpfs). */
  source: string;
  target: string;
  readOnly: boolean;
}

export type RestartPolicy =
  | { name: "no" }
  | { name: "on-failure"; maxRetries?: number }
  | { name: "always" }
  | { name: "unless-stopped" };

export interface HealthCheck {
  /** exec: run `command` in the container; http: GET `url` (2xx/3xx healthy); tcp: connect to `port`. */
  kind: "exec" | "http" | "tcp";
  command?: string[];
  url?: string;
  port?: number;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface Resources {
  memoryBytes?: number;
  /** CPU quota in cores, e.g. 0.5 (CFS quota/period, or cpu.max on v2). */
  cpus?: number;
  /** Relative weight, Docker's --cpu-shares (2–262144; 1024 is the default). */
  cpuShares?: number;
  pidsLimit?: number;
}

export interface ContainerConfig {
  name: string;
  /** An image reference or digest in the local image store. */
  image: string;
  /** Replaces the image's CMD. */
  command?: string[];
  /** Replaces the image's ENTRYPOINT. */
  entrypoint?: string[];
  env: Record<string, string>;
  workdir?: string;
  /** `uid`, `uid:gid`, or a name from the image's /etc/passwd. */
  user?: string;
  hostname?: string;
  tty: boolean;
  /** Keep stdin open (for `run -i`). */
  interactive: boolean;
  readOnlyRootfs: boolean;
  resources: Resources;
  network: NetworkMode;
  ports: PortMapping[];
  mounts: MountSpec[];
  restart: RestartPolicy;
  healthcheck?: HealthCheck;
  labels: Record<string, string>;
  /** Signal `stop` sends first (default SIGTERM). */
  stopSignal?: string;
  /** Grace period before SIGKILL (default 10 s). */
  stopTimeoutMs?: number;
  /** Size of /dev/shm (default 64 MiB). */
  shmSizeBytes?: number;
  /** Remove the container when it exits (`run --rm`). */
  autoRemove: boolean;
}

/** A container's life; transitions are checked by the state machine. */
export type ContainerStatus = "creating" | "created" | "running" | "stopped" | "removing";

export type HealthStatus = "none" | "starting" | "healthy" | "unhealthy";

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  imageDigest: string;
  status: ContainerStatus;
  /** Host pid of the container's init while it runs. */
  pid: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  /** True when the last exit was the kernel's OOM killer. */
  oomKilled: boolean;
  restartCount: number;
  health: HealthStatus;
  ipAddress: string | null;
  config: ContainerConfig;
}

export interface LogLine {
  time: string;
  stream: "stdout" | "stderr";
  line: string;
}

export interface LogOptions {
  follow?: boolean;
  /** Only the last N lines. */
  tail?: number;
  /** Only lines at or after this time. */
  since?: Date;
  signal?: AbortSignal;
}

export interface ExecOptions {
  command: string[];
  tty: boolean;
  env?: Record<string, string>;
  user?: string;
  workdir?: string;
}

export interface ContainerStats {
  cpuUsageNs: number;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  pids: number;
  networkRxBytes: number;
  networkTxBytes: number;
}

export interface ContainerRuntime {
  create(config: ContainerConfig): Promise<ContainerInfo>;
  start(idOrName: string): Promise<ContainerInfo>;
  /** Send the stop signal, wait up to the grace period, then SIGKILL. */
  stop(idOrName: string, options?: { timeoutMs?: number }): Promise<ContainerInfo>;
  kill(idOrName: string, signal?: string): Promise<void>;
  restart(idOrName: string): Promise<ContainerInfo>;
  remove(idOrName: string, options?: { force?: boolean }): Promise<void>;
  list(options?: { all?: boolean }): Promise<ContainerInfo[]>;
  inspect(idOrName: string): Promise<ContainerInfo>;
  /** Resolves with the exit code once the container has stopped. */
  wait(idOrName: string): Promise<number>;
  logs(idOrName: string, options?: LogOptions): AsyncIterable<LogLine>;
  stats(idOrName: string): Promise<ContainerStats>;
  /**
   * Run a command in a running container. With "inherit" the process uses the
   * caller's terminal directly (so a TTY and its resizing just work);
   * otherwise its output is written to the given streams. Resolves with the
   * exit code.
   */
  exec(idOrName: string, options: ExecOptions, stdio: ExecStdio): Promise<number>;
}

export type ExecStdio =
  | "inherit"
  | { stdin?: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
