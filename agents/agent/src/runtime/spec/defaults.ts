import type { OciDeviceCgroupRule, OciMount, OciSpec } from "./types.ts";

/** runtime-spec version runc 1.1 speaks. */
export const OCI_VERSION = "1.0.2-dev";

/** Docker's default capability set (moby's caps.DefaultCapabilities). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker's default /dev/shm size. */
export const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;

export const MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

export const READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

function defaultMounts(): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${DEFAULT_SHM_BYTES}`],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["ro", "nosuid", "noexec", "nodev"],
    },
  ];
}

/**
 * Docker's device cgroup rules: deny everything, allow mknod of any node
 * (CAP_MKNOD decides), and read/write/mknod of null, zero, full, random,
 * urandom, tty, console, the pts devices and ptmx.
 */
function defaultDeviceRules(): OciDeviceCgroupRule[] {
  const allow = (major: number, minor: number | undefined): OciDeviceCgroupRule =>
    minor === undefined
      ? { allow: true, type: "c", major, access: "rwm" }
      : { allow: true, type: "c", major, minor, access: "rwm" };
  return [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", access: "m" },
    { allow: true, type: "b", access: "m" },
    allow(1, 3), // null
    allow(1, 5), // zero
    allow(1, 7), // full
    allow(1, 8), // random
    allow(1, 9), // urandom
    allow(5, 0), // tty
    allow(5, 1), // console
    allow(136, undefined), // pts/*
    allow(5, 2), // ptmx
  ];
}

/**
 * Docker's defaults: new pid, mount, uts, ipc, network and cgroup namespaces;
 * the default capabilities; no_new_privileges; masked and read-only /proc and
 * /sys paths; the standard mounts; the default device rules. A fresh object
 * every call, so options may mutate it.
 */
export function defaultSpec(): OciSpec {
  const caps = [...DEFAULT_CAPABILITIES];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [],
      env: [],
      cwd: "/",
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
      rlimits: [],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: false },
    mounts: defaultMounts(),
    linux: {
      namespaces: [
        { type: "pid" },
        { type: "mount" },
        { type: "uts" },
        { type: "ipc" },
        { type: "network" },
        { type: "cgroup" },
      ],
      resources: { devices: defaultDeviceRules() },
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}
