import { z } from "zod";

/**
 * What the control plane asks a host to run: each task's container, fully
 * resolved (volume names prefixed with the stack, limits from the service's
 * deploy section), so the agent needs nothing else to run it. Bounded like
 * every frame.
 */
const id = z.string().min(1).max(100);
const shortText = z.string().max(1000);
const port = z.number().int().min(1).max(65535);
const ms = z
  .number()
  .int()
  .nonnegative()
  .max(7 * 24 * 3600 * 1000);

export const taskPortSchema = z.strictObject({
  target: port,
  published: port.optional(),
  protocol: z.enum(["tcp", "udp"]),
  hostIp: z.string().max(64).optional(),
});

export const taskMountSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("volume"), source: shortText, target: shortText, readOnly: z.boolean() }),
  z.strictObject({ type: z.literal("bind"), source: shortText, target: shortText, readOnly: z.boolean() }),
  z.strictObject({
    type: z.literal("tmpfs"),
    target: shortText,
    sizeBytes: z.number().int().positive().optional(),
  }),
]);

export const taskHealthcheckSchema = z.strictObject({
  test: z.array(z.string().max(10_000)).min(2).max(1000),
  intervalMs: ms,
  timeoutMs: ms,
  retries: z.number().int().min(1).max(1000),
  startPeriodMs: ms,
});

export const taskSpecSchema = z.strictObject({
  image: z.string().min(1).max(500),
  command: z.array(z.string().max(10_000)).max(1000).optional(),
  entrypoint: z.array(z.string().max(10_000)).max(1000).optional(),
  env: z.record(z.string().max(1000), z.string().max(100_000)),
  ports: z.array(taskPortSchema).max(1000),
  mounts: z.array(taskMountSchema).max(100),
  labels: z.record(z.string().max(1000), z.string().max(10_000)),
  healthcheck: taskHealthcheckSchema.optional(),
  stopGracePeriodMs: ms,
  stopSignal: z.string().max(20).optional(),
  user: z.string().max(100).optional(),
  workingDir: z.string().max(1000).optional(),
  hostname: z.string().max(255).optional(),
  readOnly: z.boolean(),
  tty: z.boolean(),
  shmSizeBytes: z.number().int().positive().optional(),
  limits: z.strictObject({
    cpus: z.number().positive().max(1024).optional(),
    memoryBytes: z.number().int().positive().optional(),
    pids: z.number().int().positive().optional(),
  }),
});

export const desiredTaskSchema = z.strictObject({
  taskId: id,
  /** Container name, e.g. `shop_web.2`. */
  name: z.string().min(1).max(200),
  stack: z.string().min(1).max(100),
  service: z.string().min(1).max(100),
  slot: z.number().int().nonnegative(),
  spec: taskSpecSchema,
});

/** What the agent reports of a task; `shutdown` is a task stopped because it was no longer wanted. */
export const taskStateSchema = z.enum([
  "pending",
  "pulling",
  "starting",
  "running",
  "unhealthy",
  "exited",
  "failed",
  "shutdown",
]);

export const taskStatusEntrySchema = z.strictObject({
  taskId: id,
  state: taskStateSchema,
  containerId: z.string().max(100).optional(),
  exitCode: z.number().int().optional(),
  reason: z.string().max(1000).optional(),
});

export type TaskSpec = z.infer<typeof taskSpecSchema>;
export type TaskPort = z.infer<typeof taskPortSchema>;
export type TaskMount = z.infer<typeof taskMountSchema>;
export type DesiredTask = z.infer<typeof desiredTaskSchema>;
export type TaskState = z.infer<typeof taskStateSchema>;
export type TaskStatusEntry = z.infer<typeof taskStatusEntrySchema>;
