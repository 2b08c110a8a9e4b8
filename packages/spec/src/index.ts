/** Compose's env file format (env_file:, and the .env beside a stack file the CLI reads). */
export { parseEnvFile } from "./env-file.ts";
export {
  formatIssue,
  formatIssues,
  formatPath,
  SpecError,
  type SpecIssue,
  type SpecIssueKind,
} from "./errors.ts";
export type {
  Constraint,
  DeploySpec,
  HealthcheckSpec,
  MountSpec,
  PortSpec,
  Protocol,
  Resources,
  RestartPolicy,
  ServiceSpec,
  SpecWarning,
  StackSpec,
  UpdatePolicy,
  VolumeSpec,
} from "./model.ts";
export { type ParseOptions, type ParseResult, parseStack, parseStackOrThrow } from "./parse.ts";
export {
  canonicalJson,
  diffValues,
  type FieldChange,
  type PlanOptions,
  planStack,
  type ServicePlan,
  type StackPlan,
  templateDigest,
} from "./plan.ts";
export { parseBytes, parseCpus, parseDuration } from "./units.ts";
export { DEFAULT_LIMITS, type YamlLimits } from "./yaml.ts";
