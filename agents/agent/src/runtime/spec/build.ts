import { BerthError } from "@berth/protocol";
import type { ResolvedImage } from "../../images/types.ts";
import type { ContainerConfig } from "../types.ts";
import { defaultSpec } from "./defaults.ts";
import { type NetnsSpec, withHostname, withNetworkNamespace, withSeccomp } from "./linux.ts";
import {
  type EtcFiles,
  withEtcFiles,
  withMounts,
  withReadonlyRootfs,
  withRootfs,
  withShmSize,
} from "./mounts.ts";
import { withCwd, withEnv, withProcessArgs, withTty, withUser } from "./process.ts";
import { withCgroupsPath, withCpuQuota, withCpuShares, withMemoryLimit, withPidsLimit } from "./resources.ts";
import { DEFAULT_RLIMITS, type HostRlimits, readHostRlimits, withRlimits } from "./rlimits.ts";
import type { OciMount, OciRlimit, OciSeccomp, OciSpec, SpecOpt } from "./types.ts";
import { readUserDb, type UserDb } from "./user.ts";

/** Apply options in order over a spec (by default a fresh `defaultSpec()`). */
export function applySpecOpts(opts: readonly SpecOpt[], spec: OciSpec = defaultSpec()): OciSpec {
  for (const opt of opts) opt(spec);
  return spec;
}

/**
 * The process a container runs, by Docker's rules: the container's
 * entrypoint or else the image's, followed by the container's command or
 * else the image's — except that a container entrypoint drops the image's
 * command.
 */
export function resolveCommand(
  config: Pick<ContainerConfig, "entrypoint" | "command">,
  image: Pick<ResolvedImage, "config">,
): string[] {
  const entrypoint = config.entrypoint ?? image.config.entrypoint ?? [];
  const cmd = config.command ?? (config.entrypoint !== undefined ? [] : (image.config.cmd ?? []));
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw new BerthError(
      "InvalidArgument",
      "no command to run: the image has no entrypoint or command; give a command (or --entrypoint)",
    );
  }
  return args;
}

export interface BuildSpecInput {
  /** The container's id: its default hostname is the first 12 characters, as in Docker. */
  id: string;
  config: ContainerConfig;
  image: ResolvedImage;
  /** The mounted root filesystem (absolute host path). */
  rootfs: string;
  etcFiles?: EtcFiles;
  netns: NetnsSpec;
  cgroupsPath: string;
  /** null runs the container without a seccomp filter. */
  seccomp: OciSeccomp | null;
  /** Volumes, binds and tmpfs already resolved to host paths (volumes/resolveMounts). */
  mounts: readonly OciMount[];
  /** Defaults to DEFAULT_RLIMITS. */
  rlimits?: readonly OciRlimit[];
  /** Defaults to the agent's own limits from /proc/self/limits. */
  hostRlimits?: HostRlimits;
  /** Defaults to /etc/passwd and /etc/group read from `rootfs`. */
  userDb?: UserDb;
}

function resourceOpts(config: ContainerConfig): SpecOpt[] {
  const { memoryBytes, cpus, cpuShares, pidsLimit } = config.resources;
  const opts: SpecOpt[] = [];
  if (memoryBytes !== undefined) opts.push(withMemoryLimit(memoryBytes));
  if (cpus !== undefined) opts.push(withCpuQuota(cpus));
  if (cpuShares !== undefined) opts.push(withCpuShares(cpuShares));
  if (pidsLimit !== undefined) opts.push(withPidsLimit(pidsLimit));
  return opts;
}

/** The OCI spec of a container: Docker's defaults composed with what the image and the container ask for. */
export async function buildSpec(input: BuildSpecInput): Promise<OciSpec> {
  const { config, image } = input;
  const userDb = input.userDb ?? (await readUserDb(input.rootfs));
  const hostRlimits = input.hostRlimits ?? (await readHostRlimits());
  const opts: SpecOpt[] = [
    withRootfs(input.rootfs),
    withReadonlyRootfs(config.readOnlyRootfs),
    withProcessArgs(resolveCommand(config, image)),
    withEnv(image.config.env, config.env),
    withUser(config.user ?? image.config.user ?? undefined, userDb),
    withCwd(config.workdir || image.config.workdir || "/"),
    withTty(config.tty),
    withHostname(config.hostname ?? input.id.slice(0, 12)),
    withNetworkNamespace(input.netns),
    withCgroupsPath(input.cgroupsPath),
    ...resourceOpts(config),
    withRlimits(input.rlimits ?? DEFAULT_RLIMITS, hostRlimits),
    withSeccomp(input.seccomp),
    withMounts(input.mounts),
    withEtcFiles(input.etcFiles ?? {}),
  ];
  if (config.shmSizeBytes !== undefined) opts.push(withShmSize(config.shmSizeBytes));
  return applySpecOpts(opts);
}
