export { BerthError, ERROR_CODES, type ErrorCode, EXIT_CODES, isBerthError } from "./errors.ts";
export { type CgroupMode, cgroupModeSchema, type HostFacts, hostFactsSchema } from "./facts.ts";
export { encodeFrame, type FrameResult, parseFrame } from "./frames.ts";
export {
  AGENT_PATH,
  type AgentMessage,
  agentMessageSchema,
  CLOSE_CODES,
  type ErrorFrame,
  errorFrameSchema,
  type Heartbeat,
  type Hello,
  heartbeatSchema,
  helloSchema,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ServerMessage,
  serverMessageSchema,
  type TaskStatus,
  type Tasks,
  taskStatusSchema,
  tasksSchema,
  type Welcome,
  welcomeSchema,
} from "./messages.ts";
export {
  type DesiredTask,
  desiredTaskSchema,
  type TaskMount,
  type TaskPort,
  type TaskSpec,
  type TaskState,
  type TaskStatusEntry,
  taskMountSchema,
  taskPortSchema,
  taskSpecSchema,
  taskStateSchema,
  taskStatusEntrySchema,
} from "./tasks.ts";
