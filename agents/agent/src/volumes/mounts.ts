import { stat } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { checkMountDestination } from "../runtime/spec/mounts.ts";
import type { OciMount } from "../runtime/spec/types.ts";
import type { MountSpec } from "../runtime/types.ts";
import type { VolumeStore } from "./store.ts";

export interface ResolveMountsOptions {
  /** When false, bind mounts of host paths are refused (the agent's setting). */
  allowHostBinds: boolean;
  volumes: VolumeStore;
}

/** Docker's --tmpfs defaults. */
const TMPFS_OPTIONS = ["nosuid", "nodev", "noexec", "mode=1777"];

function normaliseTarget(target: string): string {
  checkMountDestination(target);
  return path.posix.normalize(target).replace(/\/$/, "");
}

async function bindSource(mount: MountSpec, allowHostBinds: boolean): Promise<string> {
  if (!allowHostBinds) {
    throw new BerthError(
      "PermissionDenied",
      `bind mount of host path "${mount.source}" refused: this agent does not allow host binds; use a named volume`,
    );
  }
  if (!path.isAbsolute(mount.source)) {
    throw new BerthError(
      "InvalidArgument",
      `bind mount source "${mount.source}" must be an absolute host path`,
    );
  }
  await stat(mount.source).catch((err) => {
    throw new BerthError(
      "InvalidArgument",
      `bind mount source "${mount.source}" does not exist on this host`,
      {
        cause: err,
      },
    );
  });
  return path.normalize(mount.source);
}

async function resolveOne(mount: MountSpec, options: ResolveMountsOptions): Promise<OciMount> {
  const destination = normaliseTarget(mount.target);
  const access = mount.readOnly ? "ro" : "rw";
  switch (mount.type) {
    case "bind": {
      const source = await bindSource(mount, options.allowHostBinds);
      return { destination, type: "bind", source, options: ["rbind", "rprivate", access] };
    }
    case "volume": {
      const volume = await options.volumes.ensure(mount.source);
      return { destination, type: "bind", source: volume.mountpoint, options: ["rbind", "rprivate", access] };
    }
    case "tmpfs":
      return { destination, type: "tmpfs", source: "tmpfs", options: [...TMPFS_OPTIONS, access] };
    default:
      throw new BerthError("InvalidArgument", `unknown mount type "${(mount as MountSpec).type}"`);
  }
}

/**
 * Turn a container's mounts into OCI mount entries on host paths: binds must
 * be absolute, existing and allowed; named volumes are created on first use;
 * tmpfs gets Docker's defaults. Sorted so a parent is mounted before what is
 * mounted inside it.
 */
export async function resolveMounts(
  mounts: readonly MountSpec[],
  options: ResolveMountsOptions,
): Promise<OciMount[]> {
  const seen = new Set<string>();
  for (const mount of mounts) {
    const target = normaliseTarget(mount.target);
    if (seen.has(target)) throw new BerthError("InvalidArgument", `two mounts on ${target}`);
    seen.add(target);
  }
  const resolved: OciMount[] = [];
  for (const mount of mounts) resolved.push(await resolveOne(mount, options));
  const depth = (m: OciMount) => m.destination.split("/").length;
  return resolved.sort((a, b) => depth(a) - depth(b));
}

/** Names of the named volumes a container's mounts use (for in-use checks). */
export function volumeNames(mounts: readonly MountSpec[]): string[] {
  return [...new Set(mounts.filter((m) => m.type === "volume").map((m) => m.source))];
}
