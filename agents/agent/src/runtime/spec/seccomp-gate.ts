import {
  convertSeccompProfile,
  hostSeccompTarget,
  loadSeccompProfile,
  type SeccompProfile,
  type SeccompProfileSyscall,
} from "./seccomp.ts";
import type { OciSeccomp } from "./types.ts";

/**
 * Syscalls moby's default profile allows only with CAP_SYS_ADMIN. The
 * containers/common variant Debian ships allows most of them (mount, umount2,
 * unshare, setns, clone with namespace flags, …) to everyone, leaving only
 * the capability check between a container and new namespaces — and
 * unshare(CLONE_NEWUSER) needs no capability at all.
 */
export const ADMIN_SYSCALLS: readonly string[] = [
  "bpf",
  "clone",
  "clone3",
  "fanotify_init",
  "fsconfig",
  "fsmount",
  "fsopen",
  "fspick",
  "lookup_dcookie",
  "mount",
  "mount_setattr",
  "move_mount",
  "name_to_handle_at",
  "open_tree",
  "perf_event_open",
  "quotactl",
  "quotactl_fd",
  "setdomainname",
  "sethostname",
  "setns",
  "syslog",
  "umount",
  "umount2",
  "unshare",
];

/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may not use these without CAP_SYS_ADMIN. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const EPERM = 1;
const ENOSYS = 38;

function unconditionalAllow(rule: SeccompProfileSyscall): boolean {
  return rule.action === "SCMP_ACT_ALLOW" && !rule.includes?.caps?.length;
}

function cloneRule(argIndex: number, arches: "s390" | "other"): SeccompProfileSyscall {
  const s390 = ["s390", "s390x"];
  return {
    names: ["clone"],
    action: "SCMP_ACT_ALLOW",
    args: [{ index: argIndex, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    includes: arches === "s390" ? { arches: s390 } : {},
    excludes: arches === "s390" ? { caps: ["CAP_SYS_ADMIN"] } : { caps: ["CAP_SYS_ADMIN"], arches: s390 },
  };
}

/**
 * Without CAP_SYS_ADMIN the admin syscalls fail with EPERM, as under moby's
 * profile (whose default errno is EPERM; this profile's is ENOSYS, which
 * would make `mount` look unimplemented). syslog stays open to CAP_SYSLOG.
 */
function refusals(): SeccompProfileSyscall[] {
  const special = new Set(["clone", "clone3", "syslog"]);
  return [
    {
      names: ADMIN_SYSCALLS.filter((n) => !special.has(n)),
      action: "SCMP_ACT_ERRNO",
      errnoRet: EPERM,
      excludes: { caps: ["CAP_SYS_ADMIN"] },
    },
    {
      names: ["syslog"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: EPERM,
      excludes: { caps: ["CAP_SYS_ADMIN", "CAP_SYSLOG"] },
    },
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS, excludes: { caps: ["CAP_SYS_ADMIN"] } },
  ];
}

/**
 * Restore moby's CAP_SYS_ADMIN gate on a profile: take the admin syscalls
 * out of the rules that allow them to everyone and allow them with
 * CAP_SYS_ADMIN. Without it they fail with EPERM, clone is allowed only
 * without namespace flags, and clone3 fails with ENOSYS (so libc falls back
 * to clone), as with moby.
 */
export function gateAdminSyscalls(profile: SeccompProfile): SeccompProfile {
  const admin = new Set(ADMIN_SYSCALLS);
  const syscalls: SeccompProfileSyscall[] = [];
  for (const rule of profile.syscalls ?? []) {
    if (!unconditionalAllow(rule)) {
      syscalls.push(rule);
      continue;
    }
    const names = (rule.names ?? (rule.name ? [rule.name] : [])).filter((n) => !admin.has(n));
    if (names.length > 0) syscalls.push({ ...rule, name: undefined, names });
  }
  syscalls.push(
    { names: [...ADMIN_SYSCALLS], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } },
    { names: ["syslog"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYSLOG"] } },
    cloneRule(0, "other"),
    cloneRule(1, "s390"),
    ...refusals(),
  );
  return { ...profile, syscalls };
}

/**
 * The default filter for a container with `caps` on this host: Debian's
 * copy of the default profile, gated like moby's, converted for this
 * architecture and capability set.
 */
export async function defaultSeccomp(caps: readonly string[], file?: string): Promise<OciSeccomp> {
  const profile = gateAdminSyscalls(await loadSeccompProfile(file));
  return convertSeccompProfile(profile, hostSeccompTarget(caps));
}
