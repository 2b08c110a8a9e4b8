export { type Backoff, type BackoffOptions, createBackoff, fullJitterDelay } from "./backoff.ts";
export {
  type AgentConnection,
  type AgentConnectionOptions,
  type ConnectionState,
  createAgentConnection,
} from "./connection.ts";
export { type CollectFactsOptions, collectFacts } from "./facts.ts";
export { createLogger, LOG_LEVELS, type LogLevel } from "./logger.ts";
export { loadCredential, type StoredCredential, saveCredential } from "./state.ts";
export { AGENT_VERSION } from "./version.ts";
