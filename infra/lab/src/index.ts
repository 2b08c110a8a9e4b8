export { type AgentStart, agentCommand, inHostNetns } from "./agent.ts";
export { attempt, LabCommandError, must, type RunOptions, type RunResult, run } from "./exec.ts";
export { type LabContainer, LabHost } from "./host.ts";
export { type CreateLabOptions, Lab, type StartAgentsOptions } from "./lab.ts";
export {
  AGENT_BIN,
  DEFAULT_LAB_NAME,
  type HostLayout,
  hostLayout,
  type LabLayout,
  type LabNaming,
  labLayout,
} from "./layout.ts";
export { leftovers, tearDown } from "./teardown.ts";
export { waitFor } from "./wait.ts";
