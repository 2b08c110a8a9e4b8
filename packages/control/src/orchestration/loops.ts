import type { Db } from "@berth/db";
import type { Logger } from "pino";
import type { ChangeFeed } from "../feed.ts";
import type { LeaderTask } from "../leader/election.ts";
import type { Strategy } from "../scheduler/index.ts";
import { orchestratePass } from "./orchestrate.ts";
import { schedulePass } from "./schedule.ts";

export interface OrchestrationOptions {
  db: Db;
  feed: ChangeFeed;
  log: Logger;
  /** Look at every service at least this often even when nothing is heard. Default 1 s. */
  intervalMs?: number;
  /** After a change is heard, wait this long for more before a pass. Default 50 ms. */
  debounceMs?: number;
  strategy?: Strategy;
}

/**
 * The orchestrator and the scheduler as one leader task: a pass (every
 * service reconciled, then every waiting task placed) runs whenever a stack,
 * host or task changes, at the time a service asked to be woken (a restart
 * delay, a monitor window), and on an interval as a safety net. Passes never
 * overlap; changes heard during a pass cause exactly one more.
 */
export function orchestrationTask(o: OrchestrationOptions): LeaderTask {
  return {
    name: "orchestrator",
    start() {
      const log = o.log.child({ component: "orchestrator" });
      let stopped = false;
      let running: Promise<void> | null = null;
      let again = false;
      let wakeTimer: NodeJS.Timeout | undefined;

      // Whatever a pass wrote is announced, even when a later step of it (or the announcement)
      // fails: the next pass finds nothing left to do, and without this it would say nothing.
      let unannounced = false;
      const pass = async () => {
        const started = Date.now();
        try {
          const orchestrated = await orchestratePass(o.db, started);
          if (orchestrated.changed) unannounced = true;
          if (orchestrated.wakeAt) {
            clearTimeout(wakeTimer);
            wakeTimer = setTimeout(kick, Math.max(0, orchestrated.wakeAt - Date.now()) + 5);
          }
          const scheduled = await schedulePass(o.db, o.strategy);
          // A waiting task's reason is shown on its stack's page: a new one is a change too.
          if (scheduled.assigned > 0 || scheduled.reasonsChanged > 0) unannounced = true;
          if (unannounced) {
            log.debug(
              { ms: Date.now() - started, assigned: scheduled.assigned, unplaced: scheduled.unplaced },
              "orchestration pass changed tasks",
            );
          }
        } finally {
          if (unannounced) {
            await o.feed.publish({ topic: "tasks" });
            await o.feed.publish({ topic: "stacks" });
            unannounced = false;
          }
        }
      };
      const kick = () => {
        if (stopped) return;
        if (running) {
          again = true;
          return;
        }
        running = (async () => {
          do {
            again = false;
            try {
              await pass();
            } catch (err) {
              log.error({ err }, "orchestration pass failed");
            }
          } while (again && !stopped);
        })().finally(() => {
          running = null;
        });
      };
      // A burst of changes (ten thousand task statuses) becomes one pass, not one per change.
      let debounce: NodeJS.Timeout | undefined;
      const soon = () => {
        if (!debounce) {
          debounce = setTimeout(() => {
            debounce = undefined;
            kick();
          }, o.debounceMs ?? 50);
        }
      };
      const unsubscribe = o.feed.subscribe((change) => {
        if (change.topic === "stacks" || change.topic === "hosts") soon();
      });
      const interval = setInterval(kick, o.intervalMs ?? 1000);
      kick();
      return {
        async stop() {
          stopped = true;
          unsubscribe();
          clearInterval(interval);
          clearTimeout(wakeTimer);
          clearTimeout(debounce);
          await running;
        },
      };
    },
  };
}
