/**
 * A desired task → the runtime's ContainerConfig, and the labels that let the
 * agent find a task's container again (after a restart, by label alone).
 */
import { createHash } from "node:crypto";
import type { DesiredTask, TaskMount, TaskPort } from "@berth/protocol";
import { healthCommandArgv } from "../runtime/health/command.ts";
import type {
  ContainerConfig,
  ContainerInfo,
  HealthCheck,
  MountSpec,
  PortMapping,
} from "../runtime/types.ts";

export const TASK_LABELS = {
  taskId: "berth.task.id",
  stack: "berth.stack",
  service: "berth.service",
  slot: "berth.slot",
  /** Hash of the task's spec: a container made from another spec is replaced. */
  specHash: "berth.task.spec",
} as const;

const NAME_MAX = 128;

/** `shop_web.2.<task id>`: unique per task, so a start-first update never collides with the old slot. */
export function containerNameFor(task: DesiredTask): string {
  const suffix = task.taskId.replace(/[^a-zA-Z0-9_.-]/g, "-").slice(-40);
  const base = task.name.replace(/[^a-zA-Z0-9_.-]/g, "-").replace(/^[^a-zA-Z0-9]+/, "");
  return `${base.slice(0, NAME_MAX - suffix.length - 1) || "task"}.${suffix}`;
}

/** A stable hash of the spec (keys sorted), so the control plane's key order does not matter. */
export function specHash(task: DesiredTask): string {
  return createHash("sha256").update(stableJson(task.spec)).digest("hex").slice(0, 16);
}

export function taskIdOf(info: ContainerInfo): string | undefined {
  return info.config.labels[TASK_LABELS.taskId];
}

export function toContainerConfig(task: DesiredTask): ContainerConfig {
  const { spec } = task;
  const healthcheck = toHealthCheck(task);
  return {
    name: containerNameFor(task),
    image: spec.image,
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
    env: { ...spec.env },
    ...(spec.workingDir ? { workdir: spec.workingDir } : {}),
    ...(spec.user ? { user: spec.user } : {}),
    ...(spec.hostname ? { hostname: spec.hostname } : {}),
    tty: spec.tty,
    interactive: false,
    readOnlyRootfs: spec.readOnly,
    resources: {
      ...(spec.limits.cpus !== undefined ? { cpus: spec.limits.cpus } : {}),
      ...(spec.limits.memoryBytes !== undefined ? { memoryBytes: spec.limits.memoryBytes } : {}),
      ...(spec.limits.pids !== undefined ? { pidsLimit: spec.limits.pids } : {}),
    },
    network: "bridge",
    ports: spec.ports.flatMap(toPortMapping),
    mounts: spec.mounts.map(toMountSpec),
    // The control plane's orchestrator replaces a task that ends; the agent never restarts it.
    restart: { name: "no" },
    ...(healthcheck ? { healthcheck } : {}),
    labels: {
      ...spec.labels,
      [TASK_LABELS.taskId]: task.taskId,
      [TASK_LABELS.stack]: task.stack,
      [TASK_LABELS.service]: task.service,
      [TASK_LABELS.slot]: String(task.slot),
      [TASK_LABELS.specHash]: specHash(task),
    },
    ...(spec.stopSignal ? { stopSignal: spec.stopSignal } : {}),
    stopTimeoutMs: spec.stopGracePeriodMs,
    ...(spec.shmSizeBytes ? { shmSizeBytes: spec.shmSizeBytes } : {}),
    autoRemove: false,
  };
}

/** Only published ports need the host; a target alone is reachable on the container's address. */
function toPortMapping(port: TaskPort): PortMapping[] {
  if (port.published === undefined) return [];
  return [
    {
      ...(port.hostIp ? { hostIp: port.hostIp } : {}),
      hostPort: port.published,
      containerPort: port.target,
      protocol: port.protocol,
    },
  ];
}

function toMountSpec(mount: TaskMount): MountSpec {
  if (mount.type === "tmpfs") return { type: "tmpfs", source: "", target: mount.target, readOnly: false };
  return { type: mount.type, source: mount.source, target: mount.target, readOnly: mount.readOnly };
}

function toHealthCheck(task: DesiredTask): HealthCheck | undefined {
  const check = task.spec.healthcheck;
  const command = check ? healthCommandArgv(check.test) : null;
  if (!check || !command) return undefined;
  return {
    kind: "exec",
    command,
    // Zero means "unset" (Docker's default, 30 s), never a check in a tight loop.
    intervalMs: check.intervalMs || 30_000,
    timeoutMs: check.timeoutMs || 30_000,
    retries: check.retries,
    startPeriodMs: check.startPeriodMs,
  };
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
