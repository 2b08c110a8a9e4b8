import { BerthError } from "@berth/protocol";
import type { Logger } from "pino";
import { nextBackoffAttempt, restartDelayMs, shouldRestart } from "../restart/policy.ts";
import type { ContainerRecord, ContainerStore } from "../store.ts";
import { sleep } from "./records.ts";

export interface ExitDeps {
  store: ContainerStore;
  reap(id: string): Promise<ContainerRecord>;
  remove(id: string): Promise<void>;
  /** Start again as a restart (counts towards restartCount). */
  start(id: string): Promise<unknown>;
  log: Logger;
}

/**
 * What happens after a container's process ends — run by conmon's exit
 * command, so it works with no agent daemon at all: release what the run
 * held, then remove the container (--rm) or restart it per its policy, after
 * Docker's growing back-off.
 */
export async function handleContainerExit(id: string, d: ExitDeps): Promise<void> {
  const record = await d.reap(id).catch((err) => {
    if (err instanceof BerthError && err.code === "NotFound") return null;
    throw err;
  });
  if (record?.status !== "stopped") return;
  if (record.config.autoRemove) {
    await d.remove(id).catch((err) => d.log.warn({ err, id }, "auto-remove failed"));
    return;
  }
  const context = {
    exitCode: record.exitCode ?? 255,
    restartCount: record.restartCount,
    stoppedByUser: record.stoppedByUser,
    oomKilled: record.oomKilled,
  };
  if (!shouldRestart(record.config.restart, context)) return;
  const ranMs = record.startedAt ? Date.parse(record.finishedAt ?? "") - Date.parse(record.startedAt) : 0;
  const attempt = nextBackoffAttempt(record.backoffAttempt, ranMs);
  await d.store.update(id, (r) => ({ ...r, backoffAttempt: attempt }));
  const delay = restartDelayMs(attempt);
  d.log.info({ id, delayMs: delay, restartCount: record.restartCount + 1 }, "restarting after exit");
  await sleep(delay);
  const now = await d.store.read(id).catch(() => null);
  // The user may have stopped, started or removed it meanwhile.
  if (now?.status !== "stopped" || now.stoppedByUser) return;
  await d.start(id);
}
