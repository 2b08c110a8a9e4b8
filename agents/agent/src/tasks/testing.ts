/** Test helpers for the task runner: desired tasks and a runtime wrapper that catches overlapping operations. */
import type { DesiredTask, TaskSpec } from "@berth/protocol";
import type { ContainerRuntime } from "../runtime/types.ts";

export function desiredTask(
  n: number,
  spec: Partial<TaskSpec> = {},
  extra: Partial<DesiredTask> = {},
): DesiredTask {
  return {
    taskId: `task_${n}`,
    name: `shop_web.${n}`,
    stack: "shop",
    service: "web",
    slot: n,
    spec: {
      image: "registry.local/shop/web:1",
      command: ["sleep", "infinity"],
      env: { MODE: "test" },
      ports: [],
      mounts: [],
      labels: {},
      stopGracePeriodMs: 1000,
      readOnly: false,
      tty: false,
      limits: {},
      ...spec,
    },
    ...extra,
  };
}

/**
 * The runtime, with every mutating call recorded per container; an
 * operation that starts while another on the same container is in flight
 * is recorded in `overlaps`.
 */
export function watchedRuntime<R extends ContainerRuntime>(runtime: R) {
  const inFlight = new Set<string>();
  const overlaps: string[] = [];
  const calls: string[] = [];
  const names = new Map<string, string>();
  const track = async <T>(op: string, key: string, fn: () => Promise<T>): Promise<T> => {
    const name = names.get(key) ?? key;
    calls.push(`${op} ${name}`);
    if (inFlight.has(name)) overlaps.push(`${op} ${name}`);
    inFlight.add(name);
    try {
      return await fn();
    } finally {
      inFlight.delete(name);
    }
  };
  const wrapped: R = Object.create(runtime);
  Object.assign(wrapped, {
    create: (config: Parameters<R["create"]>[0]) =>
      track("create", config.name, async () => {
        const info = await runtime.create(config);
        names.set(info.id, info.name);
        return info;
      }),
    start: (id: string) => track("start", id, () => runtime.start(id)),
    stop: (id: string, o?: { timeoutMs?: number }) => track("stop", id, () => runtime.stop(id, o)),
    remove: (id: string, o?: { force?: boolean }) => track("remove", id, () => runtime.remove(id, o)),
  });
  return { runtime: wrapped, overlaps, calls };
}
