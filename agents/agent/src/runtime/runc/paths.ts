import path from "node:path";

/** Where runc keeps its own state (tmpfs, gone at reboot like the containers). */
export const DEFAULT_RUNC_ROOT = "/run/berth/runc";
/** conmon's attach and control sockets (short: a socket path is limited to 108 bytes). */
export const DEFAULT_SOCKET_DIR = "/run/berth/conmon";

/** Every file of one container, under `<stateDir>/containers/<id>/`. */
export interface ContainerPaths {
  dir: string;
  bundle: string;
  spec: string;
  rootfs: string;
  log: string;
  pidFile: string;
  conmonPidFile: string;
  conmonLog: string;
  /** runc's own log (JSON lines): why a create failed. */
  runtimeLog: string;
  exitDir: string;
  exitFile: string;
  /** conmon writes `exit` and, after an OOM kill, `oom` here. */
  persistDir: string;
  oomFile: string;
  hosts: string;
  hostname: string;
  resolvConf: string;
}

export function containerPaths(dir: string, id: string): ContainerPaths {
  const bundle = path.join(dir, "bundle");
  const exitDir = path.join(dir, "exits");
  const persistDir = path.join(dir, "persist");
  return {
    dir,
    bundle,
    spec: path.join(bundle, "config.json"),
    rootfs: path.join(dir, "rootfs"),
    log: path.join(dir, "container.log"),
    pidFile: path.join(dir, "container.pid"),
    conmonPidFile: path.join(dir, "conmon.pid"),
    conmonLog: path.join(dir, "conmon.log"),
    runtimeLog: path.join(dir, "runtime.log"),
    exitDir,
    exitFile: path.join(exitDir, id),
    persistDir,
    oomFile: path.join(persistDir, "oom"),
    hosts: path.join(dir, "hosts"),
    hostname: path.join(dir, "hostname"),
    resolvConf: path.join(dir, "resolv.conf"),
  };
}
