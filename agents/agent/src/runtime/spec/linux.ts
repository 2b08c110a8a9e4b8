import { BerthError } from "@berth/protocol";
import type { OciSeccomp, SpecOpt } from "./types.ts";

/** Linux's HOST_NAME_MAX. */
const MAX_HOSTNAME = 64;
const HOSTNAME =
  /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The container's hostname (it has its own UTS namespace). */
export function withHostname(hostname: string): SpecOpt {
  if (hostname.length > MAX_HOSTNAME || !HOSTNAME.test(hostname)) {
    throw new BerthError(
      "InvalidArgument",
      `hostname "${hostname}" must be at most ${MAX_HOSTNAME} characters of letters, digits, "-" and "."`,
    );
  }
  return (spec) => {
    spec.hostname = hostname;
  };
}

/**
 * new: a fresh network namespace (only loopback until networking sets it up);
 * path: join an existing one (e.g. made by CNI under /run/netns); host: share
 * the host's.
 */
export type NetnsSpec = { kind: "new" } | { kind: "path"; path: string } | { kind: "host" };

/** sysfs can only be mounted by the owner of a network namespace: with the host's, bind the host's /sys read-only. */
function bindHostSys(spec: Parameters<SpecOpt>[0]): void {
  const sys = spec.mounts.find((m) => m.destination === "/sys");
  if (sys?.type === "sysfs") {
    sys.type = "bind";
    sys.source = "/sys";
    sys.options = ["rbind", "nosuid", "noexec", "nodev", "ro"];
  }
}

export function withNetworkNamespace(netns: NetnsSpec): SpecOpt {
  if (netns.kind === "path" && !netns.path.startsWith("/")) {
    throw new BerthError("InvalidArgument", `network namespace path "${netns.path}" must be absolute`);
  }
  return (spec) => {
    const others = spec.linux.namespaces.filter((ns) => ns.type !== "network");
    if (netns.kind === "host") {
      spec.linux.namespaces = others;
      bindHostSys(spec);
    } else if (netns.kind === "path") {
      spec.linux.namespaces = [...others, { type: "network", path: netns.path }];
    } else {
      spec.linux.namespaces = [...others, { type: "network" }];
    }
  };
}

/** A seccomp filter (see seccomp.ts), or none at all with null. */
export function withSeccomp(profile: OciSeccomp | null): SpecOpt {
  return (spec) => {
    if (profile === null) delete spec.linux.seccomp;
    else spec.linux.seccomp = structuredClone(profile);
  };
}
