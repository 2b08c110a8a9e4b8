import type { Logger } from "pino";
import type { NetworkManager } from "../network/index.ts";
import { healthCommandArgv } from "../runtime/health/command.ts";
import { networkProbes } from "../runtime/health/probes.ts";
import { type HealthChecker, startHealthChecks } from "../runtime/health/runner.ts";
import { rotateIfNeeded } from "../runtime/logs/rotate.ts";
import { shouldRestart } from "../runtime/restart/policy.ts";
import type { RuncRuntime } from "../runtime/runc/runtime.ts";
import type { ContainerRecord } from "../runtime/store.ts";
import { execProbe } from "./exec-probe.ts";

export interface SupervisorOptions {
  runtime: RuncRuntime;
  network: NetworkManager;
  log: Logger;
  /** How often to look at every container (default 1 s). */
  intervalMs?: number;
  /** Log rotation: size and number of files kept (default 10 MiB, 3). */
  logMaxBytes?: number;
  logMaxFiles?: number;
}

export interface AdoptionReport {
  running: string[];
  reaped: string[];
  restarted: string[];
  networksRemoved: string[];
}

/**
 * When the agent starts: take over what runs. Containers still running are
 * simply adopted (they never depended on us); ones that died while we were
 * away (a reboot, a crash) are reaped and restarted per their policy; network
 * leftovers of containers that no longer run are removed.
 */
export async function adoptContainers(
  runtime: RuncRuntime,
  network: NetworkManager,
  log: Logger,
): Promise<AdoptionReport> {
  const report: AdoptionReport = { running: [], reaped: [], restarted: [], networksRemoved: [] };
  for (const before of await runtime.store.list()) {
    const after = await runtime.refresh(before.id).catch(() => before);
    if (after.status === "running") report.running.push(after.id);
    if (before.status === "running" && after.status === "stopped") report.reaped.push(after.id);
    const restart =
      after.status === "stopped" &&
      shouldRestart(after.config.restart, {
        exitCode: after.exitCode ?? 255,
        restartCount: after.restartCount,
        stoppedByUser: after.stoppedByUser,
        oomKilled: after.oomKilled,
      });
    if (restart) {
      try {
        await runtime.start(after.id);
        report.restarted.push(after.id);
        report.running.push(after.id);
      } catch (err) {
        log.warn({ err, id: after.id }, "could not restart a container at agent start");
      }
    }
  }
  const cleanup = await network.cleanup(new Set(report.running));
  report.networksRemoved = cleanup.removed;
  log.info(
    { running: report.running.length, reaped: report.reaped.length, restarted: report.restarted.length },
    "containers adopted",
  );
  return report;
}

/**
 * The daemon's watch over its containers, every second: health checks for
 * running containers that have one, reaping (and restart policies) for any
 * whose exit handler did not run, and log rotation by size.
 */
export function startSupervisor(o: SupervisorOptions): { stop(): Promise<void> } {
  const log = o.log.child({ component: "supervisor" });
  const checkers = new Map<string, HealthChecker>();
  const rotateEvery = 30;
  let ticks = 0;
  let running: Promise<void> | null = null;

  function watchHealth(r: ContainerRecord): void {
    const check = r.config.healthcheck;
    if (!check || checkers.has(r.id)) return;
    const startedAtMs = r.startedAt ? Date.parse(r.startedAt) : Date.now();
    const exec = (command: string[], timeoutMs: number) => execProbe(o.runtime, r.id, command, timeoutMs);
    const checker = startHealthChecks({
      check:
        check.kind === "exec" ? { ...check, command: healthCommandArgv(check.command ?? []) ?? [] } : check,
      probe: { exec, ...networkProbes },
      address: r.ipAddress ?? "127.0.0.1",
      startedAtMs,
      onChange: (health, result) => {
        log.info({ id: r.id, health, exitCode: result.exitCode }, "health changed");
        o.runtime.store.update(r.id, (x) => ({ ...x, health })).catch(() => {});
      },
    });
    checkers.set(r.id, checker);
  }

  async function tick(): Promise<void> {
    ticks++;
    const records = await o.runtime.store.list();
    const live = new Set<string>();
    for (const before of records) {
      const r = before.status === "running" ? await o.runtime.refresh(before.id).catch(() => before) : before;
      if (r.status === "running") {
        live.add(r.id);
        watchHealth(r);
        if (ticks % rotateEvery === 0) {
          await rotateIfNeeded(o.runtime.paths(r.id).log, {
            maxBytes: o.logMaxBytes ?? 10 * 1024 * 1024,
            maxFiles: o.logMaxFiles ?? 3,
          }).catch((err) => log.warn({ err, id: r.id }, "log rotation failed"));
        }
      } else if (before.status === "running") {
        // conmon's exit handler should have done this; do it if it did not.
        void o.runtime.handleExit(r.id).catch((err) => log.warn({ err, id: r.id }, "exit handling failed"));
      }
    }
    for (const [id, checker] of checkers) {
      if (!live.has(id)) {
        checker.stop();
        checkers.delete(id);
      }
    }
  }

  const timer = setInterval(() => {
    running ??= tick()
      .catch((err) => log.error({ err }, "supervisor tick failed"))
      .finally(() => {
        running = null;
      });
  }, o.intervalMs ?? 1000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      for (const c of checkers.values()) c.stop();
      checkers.clear();
    },
  };
}
