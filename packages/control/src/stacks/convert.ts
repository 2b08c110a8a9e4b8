import type { TaskSpec } from "@berth/protocol";
import type { ServiceSpec } from "@berth/spec";
import type { TaskDemand } from "../scheduler/index.ts";

/** A named volume of stack `stack` as hosts know it (Compose's convention: `<stack>_<volume>`). */
export function volumeName(stack: string, volume: string): string {
  return `${stack}_${volume}`;
}

/** The container a task of this service runs, fully resolved for the agent. */
export function toTaskSpec(stack: string, service: ServiceSpec): TaskSpec {
  const limits = service.deploy.limits;
  return {
    image: service.image,
    ...(service.command ? { command: service.command } : {}),
    ...(service.entrypoint ? { entrypoint: service.entrypoint } : {}),
    env: service.environment,
    ports: service.ports,
    mounts: service.mounts.map((m) =>
      m.type === "volume" ? { ...m, source: volumeName(stack, m.source) } : m,
    ),
    labels: service.labels,
    ...(service.healthcheck && !service.healthcheckDisabled ? { healthcheck: service.healthcheck } : {}),
    stopGracePeriodMs: service.stopGracePeriodMs,
    ...(service.stopSignal ? { stopSignal: service.stopSignal } : {}),
    ...(service.user ? { user: service.user } : {}),
    ...(service.workingDir ? { workingDir: service.workingDir } : {}),
    ...(service.hostname ? { hostname: service.hostname } : {}),
    readOnly: service.readOnly,
    tty: service.tty,
    ...(service.shmSizeBytes ? { shmSizeBytes: service.shmSizeBytes } : {}),
    limits: {
      ...(limits.cpus !== undefined ? { cpus: limits.cpus } : {}),
      ...(limits.memoryBytes !== undefined ? { memoryBytes: limits.memoryBytes } : {}),
      ...(limits.pids !== undefined ? { pids: limits.pids } : {}),
    },
  };
}

/** What a task of this service asks of the host it is placed on. */
export function toDemand(serviceId: string, service: ServiceSpec): TaskDemand {
  const r = service.deploy.reservations;
  return {
    serviceId,
    reservations: {
      ...(r.cpus !== undefined ? { cpus: r.cpus } : {}),
      ...(r.memoryBytes !== undefined ? { memoryBytes: r.memoryBytes } : {}),
    },
    ports: service.ports
      .filter((p) => p.published !== undefined)
      .map((p) => ({ port: p.published!, protocol: p.protocol, ...(p.hostIp ? { hostIp: p.hostIp } : {}) })),
    constraints: service.deploy.placement.constraints,
    spread: service.deploy.placement.spread,
    ...(service.deploy.placement.maxReplicasPerNode
      ? { maxReplicasPerNode: service.deploy.placement.maxReplicasPerNode }
      : {}),
  };
}

/** The container name of a task on its host: `<stack>_<service>.<slot>.<short id>`. */
export function taskName(stack: string, service: string, slot: number, taskId: string): string {
  return `${stack}_${service}.${slot}.${taskId.slice(-6)}`;
}
