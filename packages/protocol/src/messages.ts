import { z } from "zod";
import { ERROR_CODES } from "./errors.ts";
import { hostFactsSchema } from "./facts.ts";
import { desiredTaskSchema, taskStatusEntrySchema } from "./tasks.ts";

/**
 * Agent ⇄ control-plane messages. One JSON object per WebSocket text frame,
 * discriminated by `type`. Both sides parse every frame with these schemas;
 * objects are strict, so an unknown field is an error, not silently dropped.
 */
export const PROTOCOL_VERSION = 1;

/** Largest frame either side accepts; larger frames close the socket (1009). */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Path of the agent endpoint on the control plane. */
export const AGENT_PATH = "/agent/v1";

const id = z.string().min(1).max(100);
const secret = z.string().min(16).max(200);

export const joinAuthSchema = z.strictObject({ kind: z.literal("join"), token: secret });
export const credentialAuthSchema = z.strictObject({
  kind: z.literal("credential"),
  hostId: id,
  secret,
});

export const helloSchema = z.strictObject({
  type: z.literal("hello"),
  protocolVersion: z.number().int().positive(),
  agentVersion: z.string().min(1).max(50),
  auth: z.discriminatedUnion("kind", [joinAuthSchema, credentialAuthSchema]),
  facts: hostFactsSchema,
});

export const heartbeatSchema = z.strictObject({
  type: z.literal("heartbeat"),
  seq: z.number().int().nonnegative(),
});

export const taskStatusSchema = z.strictObject({
  type: z.literal("task-status"),
  /** Version of the task set this status was computed against. */
  tasksVersion: z.number().int().nonnegative(),
  statuses: z.array(taskStatusEntrySchema).max(10_000),
});

export const errorFrameSchema = z.strictObject({
  type: z.literal("error"),
  code: z.enum(ERROR_CODES),
  message: z.string().max(4000),
});

/** Frames an agent may send. */
export const agentMessageSchema = z.discriminatedUnion("type", [
  helloSchema,
  heartbeatSchema,
  taskStatusSchema,
  errorFrameSchema,
]);

export const welcomeSchema = z.strictObject({
  type: z.literal("welcome"),
  hostId: id,
  /** Present only when the agent joined with a join token: store it, use it from now on. */
  credential: secret.optional(),
  heartbeatIntervalMs: z.number().int().positive(),
  hostTtlMs: z.number().int().positive(),
  serverVersion: z.string().max(50),
});

export const tasksSchema = z.strictObject({
  type: z.literal("tasks"),
  /** Monotonic per host; the agent ignores a set older than the one it holds. */
  version: z.number().int().nonnegative(),
  tasks: z.array(desiredTaskSchema).max(10_000),
});

/** Frames the control plane may send. */
export const serverMessageSchema = z.discriminatedUnion("type", [
  welcomeSchema,
  tasksSchema,
  errorFrameSchema,
]);

export type Hello = z.infer<typeof helloSchema>;
export type Heartbeat = z.infer<typeof heartbeatSchema>;
export type TaskStatus = z.infer<typeof taskStatusSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type AgentMessage = z.infer<typeof agentMessageSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;
export type Tasks = z.infer<typeof tasksSchema>;
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/** WebSocket close codes the control plane uses (4000–4999 is the application range). */
export const CLOSE_CODES = {
  /** The first frame was not a valid hello. */
  unauthenticated: 4401,
  /** The join token or host credential was wrong, used up or belongs to another host. */
  forbidden: 4403,
  /** The agent speaks a protocol version this server does not. */
  unsupportedVersion: 4426,
  /** Another connection authenticated as the same host; this one is closed. */
  replaced: 4409,
  /** The server is shutting down; reconnect. */
  goingAway: 1001,
} as const;
