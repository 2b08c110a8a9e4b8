import { BerthError } from "@berth/protocol";
import type { OciMount, SpecOpt } from "./types.ts";

/** A container path runc may mount on: absolute, no "..", not "/". */
export function checkMountDestination(destination: string): void {
  const parts = destination.split("/");
  if (!destination.startsWith("/") || parts.includes("..") || destination.replace(/\/+/g, "/") === "/") {
    throw new BerthError(
      "InvalidArgument",
      `mount target "${destination}" must be an absolute path inside the container, other than / and without ".."`,
    );
  }
  if (destination.includes("\0"))
    throw new BerthError("InvalidArgument", "a mount target contains a NUL byte");
}

/** The root filesystem: an absolute host path, or one relative to the bundle. */
export function withRootfs(rootPath: string): SpecOpt {
  if (rootPath === "") throw new BerthError("InvalidArgument", "the root filesystem path is empty");
  return (spec) => {
    spec.root.path = rootPath;
  };
}

export function withReadonlyRootfs(readonly: boolean): SpecOpt {
  return (spec) => {
    spec.root.readonly = readonly;
  };
}

function normalize(destination: string): string {
  return destination.replace(/\/+/g, "/").replace(/\/$/, "");
}

/**
 * Add mounts after the default ones, in the order given (parents before
 * children). A mount on a destination the spec already has replaces it.
 */
export function withMounts(mounts: readonly OciMount[]): SpecOpt {
  for (const mount of mounts) checkMountDestination(mount.destination);
  return (spec) => {
    for (const mount of mounts) {
      const destination = normalize(mount.destination);
      spec.mounts = spec.mounts.filter((m) => normalize(m.destination) !== destination);
      spec.mounts.push({ ...mount, destination, options: mount.options ? [...mount.options] : undefined });
    }
  };
}

export interface EtcFiles {
  /** Host paths of the generated files; each is bind-mounted when given. */
  hosts?: string;
  hostname?: string;
  resolvConf?: string;
}

/** Bind-mount generated /etc/hosts, /etc/hostname and /etc/resolv.conf (writable, as Docker does). */
export function withEtcFiles(files: EtcFiles): SpecOpt {
  const entries: [string | undefined, string][] = [
    [files.hosts, "/etc/hosts"],
    [files.hostname, "/etc/hostname"],
    [files.resolvConf, "/etc/resolv.conf"],
  ];
  const mounts: OciMount[] = [];
  for (const [source, destination] of entries) {
    if (source === undefined) continue;
    if (!source.startsWith("/")) {
      throw new BerthError("InvalidArgument", `the host file for ${destination} must be an absolute path`);
    }
    mounts.push({ destination, type: "bind", source, options: ["rbind", "rprivate"] });
  }
  return withMounts(mounts);
}

/** The size of /dev/shm in bytes (Docker's default is 64 MiB). */
export function withShmSize(bytes: number): SpecOpt {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new BerthError(
      "InvalidArgument",
      `the /dev/shm size must be a positive number of bytes, not ${bytes}`,
    );
  }
  return (spec) => {
    const shm = spec.mounts.find((m) => m.destination === "/dev/shm" && m.type === "tmpfs");
    if (!shm) throw new BerthError("FailedPrecondition", "the spec has no tmpfs /dev/shm mount to size");
    shm.options = [...(shm.options ?? []).filter((o) => !o.startsWith("size=")), `size=${bytes}`];
  };
}
