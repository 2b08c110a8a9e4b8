import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CgroupMode } from "@berth/protocol";
import type { Command } from "commander";
import { loadEnv } from "../../env.ts";
import { cgroupModeFromMounts, chooseRuntime, EXTRA_BIN_DIRS, parseMountTable } from "../../facts.ts";
import { createImageStore, type ImageStore } from "../../images/index.ts";
import { createLogger, type Logger, type LogLevel } from "../../logger.ts";
import { createNetworkManager, type NetworkManager } from "../../network/index.ts";
import { createRuncRuntime, type RuncRuntime } from "../../runtime/runc/runtime.ts";
import { createVolumeStore, type VolumeStore } from "../../volumes/index.ts";

export interface LocalEngine {
  stateDir: string;
  runtime: RuncRuntime;
  images: ImageStore;
  volumes: VolumeStore;
  network: NetworkManager;
}

/**
 * This host's network settings, kept in `<stateDir>/network/config.json` so
 * that every process working on the state directory (daemon, CLI, exit
 * handler) uses the same bridge and subnet. Absent: the defaults.
 */
export interface NetworkConfig {
  subnet?: string;
  bridgeName?: string;
  networkName?: string;
  netnsPrefix?: string;
}

export function networkConfigPath(stateDir: string): string {
  return path.join(stateDir, "network", "config.json");
}

function readNetworkConfig(stateDir: string): NetworkConfig {
  return readJsonConfig<NetworkConfig>(networkConfigPath(stateDir));
}

/**
 * Where this state directory's containers live outside it, kept in
 * `<stateDir>/runtime/config.json` for the same reason as the network's: so
 * several agents on one machine (infra/lab) keep apart runc's state, conmon's
 * sockets and their containers' cgroups. Absent: /run/berth/runc,
 * /run/berth/conmon and the cgroup parent "berth".
 */
export interface RuntimeConfig {
  runcRoot?: string;
  socketDir?: string;
  cgroupParent?: string;
}

export function runtimeConfigPath(stateDir: string): string {
  return path.join(stateDir, "runtime", "config.json");
}

function readJsonConfig<T extends object>(file: string): Partial<T> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Partial<T>;
  } catch {
    return {};
  }
}

/**
 * Named network namespaces are per state directory: an agent cleaning up
 * after a crash removes only its own, never another agent's on this machine.
 */
export function defaultNetnsPrefix(stateDir: string): string {
  return `berth-${createHash("sha256").update(path.resolve(stateDir)).digest("hex").slice(0, 6)}-`;
}

/**
 * runc, or crun where cgroups are pure v2 and it is installed (crun 1.8
 * refuses hybrid hosts); both speak the same command line. Decided once per
 * process, from the mount table and the usual binary directories.
 */
function pickOciRuntime(): { name: string; path: string } | null {
  let mode: CgroupMode = "v1";
  try {
    mode = cgroupModeFromMounts(parseMountTable(readFileSync("/proc/self/mountinfo", "utf8"))) ?? "v1";
  } catch {}
  const find = (name: string) =>
    EXTRA_BIN_DIRS.map((d) => path.join(d, name)).find((p) => existsSync(p)) ?? null;
  return chooseRuntime(mode, { runc: find("runc"), crun: find("crun") });
}

/** The agent's own executable, which conmon runs when a container exits. */
function selfCommand(): string[] {
  return [process.execPath, fileURLToPath(import.meta.url)];
}

/**
 * The single-host engine behind `berth-agent run|ps|…`: the same runtime the
 * daemon uses, working directly on the state directory, so these commands
 * need no control plane and no running daemon.
 */
export function openEngine(cmd: Command, overrides: { exitCommand?: string[] } = {}): LocalEngine {
  const flags = cmd.optsWithGlobals<{ stateDir?: string; logLevel?: LogLevel }>();
  const env = loadEnv();
  const stateDir = flags.stateDir || env.BERTH_AGENT_STATE_DIR;
  // The CLI is quiet unless asked: its output is the command's.
  const log = createLogger(flags.logLevel ?? (env.BERTH_LOG_LEVEL === "info" ? "warn" : env.BERTH_LOG_LEVEL));
  return createLocalEngine({ stateDir, log, allowHostBinds: env.BERTH_ALLOW_HOST_BINDS, ...overrides });
}

/** The engine on a state directory: images, volumes, network and the runc runtime. */
export function createLocalEngine(o: {
  stateDir: string;
  log: Logger;
  exitCommand?: string[];
  allowHostBinds?: boolean;
}): LocalEngine {
  const { stateDir, log } = o;
  const images = createImageStore(stateDir);
  const volumes = createVolumeStore(stateDir);
  const network = createNetworkManager({
    stateDir,
    log,
    netnsPrefix: defaultNetnsPrefix(stateDir),
    ...readNetworkConfig(stateDir),
  });
  const exitCommand = o.exitCommand ?? [...selfCommand(), "--state-dir", stateDir, "container-exited"];
  const oci = pickOciRuntime();
  const runtime = createRuncRuntime({
    stateDir,
    log,
    images,
    volumes,
    network,
    exitCommand,
    ...(oci ? { runcBinary: oci.path } : {}),
    ...readJsonConfig<RuntimeConfig>(runtimeConfigPath(stateDir)),
    allowHostBinds: o.allowHostBinds ?? true,
  });
  return { stateDir, runtime, images, volumes, network };
}
