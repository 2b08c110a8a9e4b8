/**
 * The validated, normalised form of a stack file: every default filled in,
 * every unit converted (durations in ms, sizes in bytes, CPUs as a number),
 * every short syntax expanded. This is what a StackRevision stores as its
 * spec and what the orchestrator works from; the YAML is kept beside it only
 * for people to read.
 */
export interface StackSpec {
  name: string;
  /** Services by name, in name order. */
  services: Record<string, ServiceSpec>;
  /** Named volumes the stack declares, by name. */
  volumes: Record<string, VolumeSpec>;
}

export interface VolumeSpec {
  driver: "local";
  labels: Record<string, string>;
}

export type Protocol = "tcp" | "udp";

export interface PortSpec {
  /** Port inside the container. */
  target: number;
  /** Port on the host; absent: the container port is not published. */
  published?: number;
  protocol: Protocol;
  /** Host address to bind; absent: every address. */
  hostIp?: string;
}

export type MountSpec =
  | { type: "volume"; source: string; target: string; readOnly: boolean }
  | { type: "bind"; source: string; target: string; readOnly: boolean }
  | { type: "tmpfs"; target: string; sizeBytes?: number };

export interface HealthcheckSpec {
  /** ["CMD", …] or ["CMD-SHELL", "…"]. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface Constraint {
  /** node.id, node.hostname or node.labels.<key>. */
  field: string;
  op: "==" | "!=";
  value: string;
}

export interface UpdatePolicy {
  parallelism: number;
  delayMs: number;
  failureAction: "pause" | "continue" | "rollback";
  monitorMs: number;
  maxFailureRatio: number;
  order: "stop-first" | "start-first";
}

export interface RestartPolicy {
  condition: "none" | "on-failure" | "any";
  delayMs: number;
  /** Absent: no limit. */
  maxAttempts?: number;
  /** Absent: attempts count forever. */
  windowMs?: number;
}

export interface Resources {
  /** CPUs, e.g. 0.5. */
  cpus?: number;
  memoryBytes?: number;
  pids?: number;
}

export interface DeploySpec {
  mode: "replicated" | "global";
  /** Replicas for mode replicated (global: one per eligible host). */
  replicas: number;
  limits: Resources;
  reservations: Resources;
  placement: {
    constraints: Constraint[];
    /** Label keys to spread over, e.g. "node.labels.zone", in order. */
    spread: string[];
    maxReplicasPerNode?: number;
  };
  update: UpdatePolicy;
  rollback: UpdatePolicy;
  restart: RestartPolicy;
  labels: Record<string, string>;
}

export interface ServiceSpec {
  image: string;
  command?: string[];
  entrypoint?: string[];
  environment: Record<string, string>;
  ports: PortSpec[];
  mounts: MountSpec[];
  labels: Record<string, string>;
  healthcheck?: HealthcheckSpec;
  /** Healthcheck explicitly disabled (`disable: true` or test NONE). */
  healthcheckDisabled: boolean;
  stopGracePeriodMs: number;
  stopSignal?: string;
  user?: string;
  workingDir?: string;
  hostname?: string;
  readOnly: boolean;
  tty: boolean;
  shmSizeBytes?: number;
  deploy: DeploySpec;
}

/** Something worth telling the user that does not stop the deploy. */
export interface SpecWarning {
  path: (string | number)[];
  line?: number;
  column?: number;
  message: string;
}
