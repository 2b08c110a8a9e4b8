import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import type { Logger } from "pino";
import { unmountRootfs } from "../../images/rootfs.ts";
import type { ImageStore } from "../../images/store.ts";
import {
  containerHosts,
  containerResolvConf,
  HOST_RESOLV_CONF,
  type NetworkAttachment,
  type NetworkManager,
  readOptional,
  SYSTEMD_RESOLV_CONF,
} from "../../network/index.ts";
import type { VolumeStore } from "../../volumes/store.ts";
import { readContainerStats } from "../cgroups/stats.ts";
import { readLogs } from "../logs/read.ts";
import { removeLogFiles } from "../logs/rotate.ts";
import { cgroupsPathFor } from "../spec/index.ts";
import { transition } from "../state.ts";
import { type ContainerRecord, type ContainerStore, createContainerStore, generateName } from "../store.ts";
import type { ContainerConfig, ContainerInfo, ContainerRuntime, ContainerStats } from "../types.ts";
import { clearRunFiles, writeBundle } from "./bundle.ts";
import { startConmon, waitForPidFile } from "./conmon.ts";
import { handleContainerExit } from "./exit-handler.ts";
import { type ContainerPaths, containerPaths, DEFAULT_RUNC_ROOT, DEFAULT_SOCKET_DIR } from "./paths.ts";
import { nextChange, pidAlive, readExitCode, toInfo } from "./records.ts";
import { createRunc, spawnExec } from "./runc.ts";

export interface RuncRuntimeOptions {
  stateDir: string;
  log: Logger;
  images: ImageStore;
  volumes: VolumeStore;
  network: NetworkManager;
  /** The program conmon runs when a container exits; the container id is appended. */
  exitCommand: string[];
  runcBinary?: string;
  conmonBinary?: string;
  runcRoot?: string;
  socketDir?: string;
  allowHostBinds?: boolean;
  /** null disables seccomp; undefined uses Docker's default profile. */
  seccompProfilePath?: string | null;
  cgroupParent?: string;
}

export interface RuncRuntime extends ContainerRuntime {
  readonly store: ContainerStore;
  /** What conmon's exit command calls: clean up, then apply the restart policy. */
  handleExit(id: string): Promise<void>;
  /** Bring the on-disk records in line with what really runs (after an agent restart). */
  refresh(id: string): Promise<ContainerRecord>;
  paths(id: string): ContainerPaths;
  /**
   * `exitHandler: false` when the caller stays to clean up after the exit
   * itself (an attached `run`): conmon then starts no second agent process.
   */
  start(idOrName: string, options?: { exitHandler?: boolean }): Promise<ContainerInfo>;
  /** Run a created container in the foreground on the caller's terminal; resolves with its exit code. */
  runAttached(idOrName: string): Promise<number>;
}

const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * The real container runtime: each container is an OCI bundle run by runc
 * under its own conmon, so it keeps running when the agent does not. State
 * lives on disk; any process (daemon, CLI, exit handler) can pick up where
 * another left off.
 */
export function createRuncRuntime(o: RuncRuntimeOptions): RuncRuntime {
  const log = o.log.child({ component: "runtime" });
  const store = createContainerStore(o.stateDir);
  const runcBinary = o.runcBinary ?? "/usr/sbin/runc";
  const runc = createRunc(runcBinary, o.runcRoot ?? DEFAULT_RUNC_ROOT);
  const paths = (id: string) => containerPaths(store.dir(id), id);
  const bundleDeps = {
    images: o.images,
    volumes: o.volumes,
    allowHostBinds: o.allowHostBinds ?? true,
    seccompProfilePath: o.seccompProfilePath,
  };

  /** After the container's process has gone: release what its run held and record how it ended. */
  async function reap(id: string): Promise<ContainerRecord> {
    return store.locked(id, async () => {
      const record = await store.read(id);
      if (record.status !== "running") return record;
      const p = paths(id);
      const exit = await readExitCode(p.exitFile);
      if (!exit && pidAlive(record.pid)) return record;
      const oomKilled = await stat(p.oomFile).then(
        () => true,
        () => false,
      );
      await runc.delete(id).catch((err) => log.warn({ err, id }, "runc delete failed"));
      await o.network.detach(id).catch((err) => log.warn({ err, id }, "network detach failed"));
      await unmountRootfs(p.dir).catch((err) => log.warn({ err, id }, "unmount failed"));
      return store.update(id, (r) => ({
        ...r,
        status: transition(r.name, r.status, "stopped"),
        exitCode: exit?.code ?? 255,
        oomKilled,
        finishedAt: (exit?.at ?? new Date()).toISOString(),
        pid: null,
        health: r.config.healthcheck ? "unhealthy" : "none",
      }));
    });
  }

  /**
   * The container's network. `none` needs no plugin at all: runc makes a
   * fresh network namespace and brings its loopback up (saving the CNI
   * round trips, about 100 ms).
   */
  async function attach(record: ContainerRecord, hostname: string): Promise<NetworkAttachment> {
    if (record.config.network !== "none") {
      return o.network.attach({
        containerId: record.id,
        mode: record.config.network,
        ports: record.config.ports,
        hostname,
      });
    }
    const [hostResolv, systemdResolv] = await Promise.all([
      readOptional(HOST_RESOLV_CONF),
      readOptional(SYSTEMD_RESOLV_CONF),
    ]);
    return {
      containerId: record.id,
      mode: "none",
      netnsPath: null,
      ipAddress: null,
      gateway: null,
      subnet: null,
      ports: [],
      resolvConf: containerResolvConf(hostResolv, systemdResolv),
      hosts: containerHosts(hostname, null),
    };
  }

  async function refresh(id: string): Promise<ContainerRecord> {
    const record = await store.read(id);
    if (record.status !== "running") return record;
    const exited = (await readExitCode(paths(id).exitFile)) !== null;
    return exited || !pidAlive(record.pid) ? reap(id) : record;
  }

  async function resolve(idOrName: string): Promise<ContainerRecord> {
    return refresh((await store.resolve(idOrName)).id);
  }

  /** The image is held (safe from prune) until the container's record, which keeps it from then on, exists. */
  function create(config: ContainerConfig): Promise<ContainerInfo> {
    return o.images.holdImages([config.image], ([image]) => createFrom(config, image!.digest));
  }

  async function createFrom(config: ContainerConfig, imageDigest: string): Promise<ContainerInfo> {
    const id = randomBytes(32).toString("hex");
    const name = config.name || generateName();
    await store.reserveName(name, id);
    const record: ContainerRecord = {
      id,
      name,
      config: { ...config, name },
      image: config.image,
      imageDigest,
      status: "created",
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      exitCode: null,
      oomKilled: false,
      restartCount: 0,
      backoffAttempt: null,
      stoppedByUser: false,
      pid: null,
      ipAddress: null,
      cgroupsPath: cgroupsPathFor(id, o.cgroupParent),
      health: "none",
      error: null,
    };
    try {
      await store.create(record);
    } catch (err) {
      await store.releaseName(name, id);
      throw err;
    }
    log.info({ id, name, image: config.image }, "container created");
    return toInfo(record);
  }

  async function startById(id: string, restart = false, exitHandler = true): Promise<ContainerRecord> {
    return store.locked(id, async () => {
      const record = await refresh(id);
      // A restart queued before the user stopped or removed it does not happen.
      if (restart && (record.stoppedByUser || record.status !== "stopped")) return record;
      const { p, attachment } = await prepareRun(record);
      try {
        const { pid } = await startConmon({
          conmonBinary: o.conmonBinary ?? "/usr/bin/conmon",
          runcBinary,
          runcRoot: runc.root,
          socketDir: o.socketDir ?? DEFAULT_SOCKET_DIR,
          id,
          name: record.name,
          paths: p,
          tty: record.config.tty,
          exitCommand: exitHandler ? [...o.exitCommand, id] : [],
        });
        await runc.start(id);
        log.info({ id, name: record.name, pid }, "container started");
        return markRunning(id, pid, attachment.ipAddress, restart);
      } catch (err) {
        await undoRun(id, err);
        throw err;
      }
    });
  }

  /** Everything before the process starts: a clean slate, the network, the bundle. */
  async function prepareRun(record: ContainerRecord, override: Partial<ContainerConfig> = {}) {
    transition(record.name, record.status, "running");
    const p = paths(record.id);
    await clearRunFiles(p);
    // runc keeps a directory per container it knows; only a leftover needs deleting.
    if (existsSync(path.join(runc.root, record.id))) await runc.delete(record.id);
    const attachment = await attach(record, record.config.hostname ?? record.id.slice(0, 12));
    try {
      await writeBundle({ ...record, config: { ...record.config, ...override } }, p, attachment, bundleDeps);
    } catch (err) {
      await undoRun(record.id, err);
      throw err;
    }
    return { p, attachment };
  }

  async function undoRun(id: string, err: unknown): Promise<void> {
    await runc.delete(id).catch(() => {});
    await o.network.detach(id).catch(() => {});
    await unmountRootfs(paths(id).dir).catch(() => {});
    const message = err instanceof Error ? err.message : String(err);
    await store.update(id, (r) => ({ ...r, error: message })).catch(() => {});
  }

  function markRunning(id: string, pid: number, ipAddress: string | null, restart: boolean) {
    return store.update(id, (r) => ({
      ...r,
      status: "running",
      pid,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      exitCode: null,
      oomKilled: false,
      stoppedByUser: false,
      ipAddress,
      health: r.config.healthcheck ? "starting" : "none",
      restartCount: restart ? r.restartCount + 1 : r.restartCount,
      error: null,
    }));
  }

  /**
   * `run -it`: the container's process runs in the foreground under `runc
   * run`, which, with a terminal in the spec, makes the pseudo-terminal itself,
   * puts ours in raw mode, copies between them and passes on window resizes.
   * It lives as long as the caller, like `docker run -it --rm`.
   */
  async function runAttached(idOrName: string): Promise<number> {
    const id = (await store.resolve(idOrName)).id;
    const { p, attachment } = await store.locked(id, async () => prepareRun(await refresh(id)));
    const child = spawn(
      runcBinary,
      ["--root", runc.root, "run", "--bundle", p.bundle, "--pid-file", p.pidFile, id],
      {
        stdio: "inherit",
      },
    );
    const exit = new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, sig) => resolve(code ?? (sig ? 128 + (sig === "SIGKILL" ? 9 : 15) : 255)));
    });
    const pid = await Promise.race([waitForPidFile(p.pidFile), exit.then(() => null)]);
    if (pid) await markRunning(id, pid, attachment.ipAddress, false);
    else await store.update(id, (r) => ({ ...r, status: "running", pid: null }));
    const code = await exit;
    await mkdir(p.exitDir, { recursive: true });
    await writeFile(p.exitFile, String(code));
    await reap(id);
    return code;
  }

  /** Wait until conmon has recorded the exit; false on timeout. */
  async function exited(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const p = paths(id);
    for (let wait = 5; ; wait = Math.min(wait * 2, 250)) {
      if (await readExitCode(p.exitFile)) return true;
      const r = await store.read(id).catch(() => null);
      if (r?.status !== "running") return true;
      if (Date.now() > deadline) return false;
      await nextChange(p.exitDir, Math.min(wait, Math.max(0, deadline - Date.now())));
    }
  }

  async function signal(record: ContainerRecord, sig: string, all = false): Promise<void> {
    try {
      await runc.kill(record.id, sig, all);
    } catch (err) {
      // It may have exited between our look and the signal.
      if (await exited(record.id, 0)) return;
      throw err;
    }
  }

  async function stop(idOrName: string, options: { timeoutMs?: number } = {}): Promise<ContainerInfo> {
    const record = await resolve(idOrName);
    if (record.status !== "running") return toInfo(record);
    await store.update(record.id, (r) => ({ ...r, stoppedByUser: true }));
    const grace = options.timeoutMs ?? record.config.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    await signal(record, record.config.stopSignal ?? "SIGTERM");
    if (!(await exited(record.id, grace))) {
      log.info({ id: record.id, graceMs: grace }, "grace period over: SIGKILL");
      await signal(record, "SIGKILL", true);
      if (!(await exited(record.id, 10_000))) {
        throw new BerthError("Internal", `container ${record.name} did not stop after SIGKILL`);
      }
    }
    return toInfo(await reap(record.id));
  }

  async function kill(idOrName: string, sig = "SIGKILL"): Promise<void> {
    const record = await resolve(idOrName);
    if (record.status !== "running") {
      throw new BerthError("FailedPrecondition", `container ${record.name} is not running`);
    }
    await store.update(record.id, (r) => ({ ...r, stoppedByUser: true }));
    await signal(record, sig);
  }

  async function remove(idOrName: string, options: { force?: boolean } = {}): Promise<void> {
    const found = await resolve(idOrName);
    // One lock for the whole removal: a restart waiting for it finds the container gone.
    await store.locked(found.id, async () => {
      let record = await refresh(found.id);
      if (record.status === "running") {
        if (!options.force) transition(record.name, "running", "removing");
        await store.update(record.id, (r) => ({ ...r, stoppedByUser: true }));
        await signal(record, "SIGKILL", true);
        await exited(record.id, 10_000);
        record = await reap(record.id);
      }
      await store.update(record.id, (r) => ({ ...r, status: transition(r.name, r.status, "removing") }));
      const p = paths(record.id);
      await runc.delete(record.id);
      await o.network.detach(record.id);
      await unmountRootfs(p.dir);
      await removeLogFiles(p.log);
      await store.releaseName(record.name, record.id);
      await store.delete(record.id);
    });
    log.info({ id: found.id, name: found.name }, "container removed");
  }

  async function wait(idOrName: string): Promise<number> {
    const record = await resolve(idOrName);
    const p = paths(record.id);
    for (let delay = 5; ; delay = Math.min(delay * 2, 250)) {
      const exit = await readExitCode(p.exitFile);
      if (exit) return exit.code;
      const r = await store.read(record.id).catch(() => null);
      if (!r) throw new BerthError("NotFound", `container ${record.name} was removed`);
      if (r.status === "stopped" || r.status === "created") return r.exitCode ?? 0;
      await nextChange(p.exitDir, delay);
    }
  }

  const handleExit = (id: string) =>
    handleContainerExit(id, { store, reap, remove, start: (i) => startById(i, true), log });

  async function stats(idOrName: string): Promise<ContainerStats> {
    const record = await resolve(idOrName);
    if (record.status !== "running") {
      throw new BerthError("FailedPrecondition", `container ${record.name} is not running`);
    }
    const { oomKills: _oom, ...usage } = await readContainerStats({
      cgroupsPath: record.cgroupsPath,
      pid: record.pid,
    });
    return usage;
  }

  return {
    store,
    paths,
    refresh,
    handleExit,
    runAttached,
    create,
    start: async (idOrName, options = {}) =>
      toInfo(await startById((await store.resolve(idOrName)).id, false, options.exitHandler ?? true)),
    stop,
    kill,
    async restart(idOrName) {
      await stop(idOrName);
      return toInfo(await startById((await store.resolve(idOrName)).id));
    },
    remove,
    async list(options = {}) {
      const records = await Promise.all((await store.list()).map((r) => refresh(r.id).catch(() => r)));
      return records
        .filter((r) => options.all || r.status === "running")
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
        .map(toInfo);
    },
    inspect: async (idOrName) => toInfo(await resolve(idOrName)),
    wait,
    logs(idOrName, options = {}) {
      return (async function* () {
        const record = await store.resolve(idOrName);
        const p = paths(record.id);
        // A follow ends once the container has exited (and its last lines are read).
        const isDone = async () =>
          (await readExitCode(p.exitFile)) !== null || !(await store.read(record.id).catch(() => null));
        yield* readLogs(p.log, { ...options, isDone });
      })();
    },
    stats,
    async exec(idOrName, options, stdio) {
      const record = await resolve(idOrName);
      if (record.status !== "running") {
        throw new BerthError("FailedPrecondition", `container ${record.name} is not running: start it first`);
      }
      const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
      const args = runc.execArgs(record.id, {
        args: options.command,
        env,
        user: options.user,
        cwd: options.workdir,
        // With our terminal inherited, `runc exec -t` makes the container a pty and relays resizes.
        tty: options.tty && stdio === "inherit",
      });
      return spawnExec(runcBinary, args, stdio);
    },
  };
}
