/** The OCI runtime spec builder: Docker's defaults plus containerd-style options. */
export { applySpecOpts, type BuildSpecInput, buildSpec, resolveCommand } from "./build.ts";
export {
  DEFAULT_CAPABILITIES,
  DEFAULT_PATH,
  DEFAULT_SHM_BYTES,
  defaultSpec,
  MASKED_PATHS,
  OCI_VERSION,
  READONLY_PATHS,
} from "./defaults.ts";
export { readFileInRoot, resolveInRoot } from "./in-root.ts";
export { type NetnsSpec, withHostname, withNetworkNamespace, withSeccomp } from "./linux.ts";
export {
  checkMountDestination,
  type EtcFiles,
  withEtcFiles,
  withMounts,
  withReadonlyRootfs,
  withRootfs,
  withShmSize,
} from "./mounts.ts";
export { withCwd, withEnv, withProcessArgs, withTty, withUser } from "./process.ts";
export {
  CPU_PERIOD_US,
  cgroupsPathFor,
  MIN_MEMORY_BYTES,
  withCgroupsPath,
  withCpuQuota,
  withCpuShares,
  withMemoryLimit,
  withPidsLimit,
} from "./resources.ts";
export {
  clampRlimit,
  DEFAULT_RLIMITS,
  type HostRlimit,
  type HostRlimits,
  parseProcLimits,
  RLIMIT_TYPES,
  readHostRlimits,
  withRlimits,
} from "./rlimits.ts";
export {
  convertSeccompProfile,
  DEFAULT_SECCOMP_PROFILE_PATH,
  goArch,
  hostSeccompTarget,
  loadSeccompProfile,
  type SeccompProfile,
  type SeccompTarget,
} from "./seccomp.ts";
export { ADMIN_SYSCALLS, defaultSeccomp, gateAdminSyscalls } from "./seccomp-gate.ts";
export type {
  OciCapabilities,
  OciDeviceCgroupRule,
  OciLinux,
  OciLinuxDevice,
  OciMount,
  OciNamespace,
  OciNamespaceType,
  OciProcess,
  OciResources,
  OciRlimit,
  OciRoot,
  OciSeccomp,
  OciSeccompArg,
  OciSeccompSyscall,
  OciSpec,
  OciUser,
  SpecOpt,
} from "./types.ts";
export {
  EMPTY_USER_DB,
  parseGroup,
  parsePasswd,
  type ResolvedUser,
  readUserDb,
  resolveUser,
  type UserDb,
} from "./user.ts";
