export { auditEntries, events } from "./events.ts";
export {
  HOST_AVAILABILITY,
  HOST_STATES,
  type HostAvailability,
  type HostState,
  hostCredentials,
  hosts,
  joinTokens,
  type StoredHostFacts,
} from "./hosts.ts";
export {
  registryBlobLinks,
  registryManifests,
  registryRepositories,
  registryTags,
  settings,
} from "./registry.ts";
export {
  hostTaskSets,
  REVISION_KINDS,
  type StoredSpec,
  services,
  stackRevisions,
  stacks,
  TASK_DESIRED,
  TASK_OBSERVED,
  type TaskDesired,
  type TaskObserved,
  tasks,
  taskTemplates,
  UPDATE_STATES,
  type UpdateState,
} from "./stacks.ts";
export {
  apiTokens,
  memberships,
  ROLES,
  type Role,
  sessions,
  TEAM_SLUG,
  TEAM_SLUG_MAX,
  teams,
  userPasswords,
  users,
} from "./users.ts";
