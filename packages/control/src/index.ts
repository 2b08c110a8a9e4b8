export { ROLES, type Role, roleAtLeast } from "@berth/db/roles";
export {
  type AgentGateway,
  type AgentSession,
  type AgentSocket,
  createAgentGateway,
  type GatewayConfig,
} from "./agent-gateway.ts";
export { type Actor, listAudit, listEvents, recordAudit, recordEvent, SYSTEM_ACTOR } from "./events.ts";
export { type Change, type ChangeFeed, type ChangeTopic, createChangeFeed } from "./feed.ts";
export {
  authenticateHost,
  getHost,
  joinHost,
  listHosts,
  recordHeartbeat,
  setHostAvailability,
  setHostLabels,
} from "./hosts.ts";
export {
  createJoinToken,
  JOIN_TOKEN_PREFIX,
  type JoinTokenStatus,
  joinTokenStatus,
  listJoinTokens,
  revokeJoinToken,
} from "./join-tokens.ts";
export {
  CONTROL_PLANE_LEADERSHIP,
  type LeaderElection,
  type LeaderOptions,
  type LeaderTask,
  runAsLeader,
  type Stoppable,
} from "./leader/election.ts";
export { currentLeader, type LeaderInfo, leaderLockKeys } from "./leader/lock.ts";
export { markSilentHostsDown, type NodeMonitorOptions, startNodeMonitor } from "./node-monitor.ts";
export { createDispatcher, type Dispatcher, taskSetsFor } from "./orchestration/dispatch.ts";
export { type OrchestrationOptions, orchestrationTask } from "./orchestration/loops.ts";
export { orchestratePass } from "./orchestration/orchestrate.ts";
export { markTasksLost, schedulePass } from "./orchestration/schedule.ts";
export { applyTaskStatus } from "./orchestration/status.ts";
export { MIN_PASSWORD_LENGTH } from "./passwords.ts";
export {
  pullableBy,
  REPOSITORY_ACTIONS,
  type RepositoryAction,
  type RepositoryRightsInput,
  registryRights,
  repositoryNamespace,
  repositoryRights,
} from "./registry/access.ts";
export {
  checkRegistryAccess,
  grantRegistryScopes,
  issueRegistryToken,
  MAX_REGISTRY_SCOPES,
  parseRegistryScopes,
  REGISTRY_TOKEN_TTL_S,
  type RegistryCaller,
  type RegistryDecision,
  type RegistryScope,
  registryCaller,
  registryTokenKey,
} from "./registry/auth.ts";
export {
  type BrowsedDescriptor,
  type BrowsedLayer,
  type BrowsedPlatform,
  getManifestDetails,
  getRepository,
  type ImageManifestDetails,
  type IndexDetails,
  listRepositories,
  MAX_BROWSED_CONFIG_BYTES,
  type ManifestDetails,
  type RepositorySummary,
  type TagSummary,
} from "./registry/browse.ts";
export {
  collectRegistryGarbage,
  DEFAULT_REGISTRY_GC_GRACE_MS,
  DEFAULT_REGISTRY_GC_INTERVAL_MS,
  DEFAULT_REGISTRY_UPLOAD_MAX_AGE_MS,
  type RegistryGcOptions,
  type RegistryGcReport,
  registryGcTask,
} from "./registry/gc.ts";
export {
  createPgRegistryMetadata,
  listRegistryRepositories,
  type PgRegistryMetadataOptions,
} from "./registry/metadata.ts";
export { type Placement, place, type SchedulerHost, type Strategy } from "./scheduler/index.ts";
export {
  API_TOKEN_PREFIX,
  actorOf,
  authenticateBasic,
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
export { toTaskSpec, volumeName } from "./stacks/convert.ts";
export {
  type Deployed,
  deployStack,
  findStack,
  parseStackFile,
  planDeploy,
  removeStack,
  rollbackStack,
  type StackDeps,
  type StackFileInput,
  scaleService,
} from "./stacks/operations.ts";
export {
  diffRevisions,
  getRevision,
  getStack,
  listStacks,
  listStackTasks,
  type RevisionSummary,
  type ServiceSummary,
  type StackSummary,
  stackHistory,
  type TaskRow,
} from "./stacks/queries.ts";
export {
  aRole,
  createTeam,
  fleetRole,
  grantCeiling,
  listTeamMembers,
  listTeams,
  type MemberRow,
  manageMembership,
  managementCeiling,
  removeTeam,
  setTeamMembership,
  slugify,
  type Team,
  type TeamRow,
  teamAccess,
} from "./teams.ts";
export {
  countUsers,
  createUser,
  DEFAULT_TEAM,
  defaultTeamId,
  ensureFirstAdmin,
  listUsers,
  setUserDisabled,
} from "./users.ts";
