export {
  type AgentGateway,
  type AgentSession,
  type AgentSocket,
  createAgentGateway,
  type GatewayConfig,
} from "./agent-gateway.ts";
export { type Actor, listAudit, listEvents, recordAudit, recordEvent, SYSTEM_ACTOR } from "./events.ts";
export { type Change, type ChangeFeed, type ChangeTopic, createChangeFeed } from "./feed.ts";
export { authenticateHost, getHost, joinHost, listHosts, recordHeartbeat } from "./hosts.ts";
export {
  createJoinToken,
  JOIN_TOKEN_PREFIX,
  type JoinTokenStatus,
  joinTokenStatus,
  listJoinTokens,
  revokeJoinToken,
} from "./join-tokens.ts";
export { markSilentHostsDown, type NodeMonitorOptions, startNodeMonitor } from "./node-monitor.ts";
export { MIN_PASSWORD_LENGTH } from "./passwords.ts";
export {
  API_TOKEN_PREFIX,
  actorOf,
  createApiToken,
  listApiTokens,
  login,
  loginForToken,
  logout,
  type Principal,
  resolveApiToken,
  resolveSession,
  revokeApiToken,
  SESSION_TTL_MS,
} from "./sessions.ts";
export { countUsers, createUser, DEFAULT_TEAM, ensureFirstAdmin, listUsers } from "./users.ts";
