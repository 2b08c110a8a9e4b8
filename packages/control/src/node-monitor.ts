import { type Db, schema } from "@berth/db";
import { and, inArray, lt, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { recordEvent } from "./events.ts";
import type { ChangeFeed } from "./feed.ts";
import { markTasksLost } from "./orchestration/schedule.ts";

export interface NodeMonitorOptions {
  db: Db;
  feed: ChangeFeed;
  log: Logger;
  /** A ready host silent for longer than this becomes `down`. */
  hostTtlMs: number;
  /** How often to look. Defaults to a quarter of the TTL (at most 1 s). */
  intervalMs?: number;
  /**
   * After the control plane starts, agents need time to reconnect: hosts are
   * not marked down until this much time has passed (defaults to the TTL).
   */
  startupGraceMs?: number;
}

/** Mark every ready host whose last heartbeat is older than the TTL as down. Returns their ids. */
export async function markSilentHostsDown(db: Db, hostTtlMs: number): Promise<string[]> {
  const h = schema.hosts;
  return db.transaction(async (tx) => {
    const down = await tx
      .update(h)
      .set({ state: "down", updatedAt: new Date() })
      .where(
        and(
          inArray(h.state, ["ready", "draining"]),
          lt(h.lastSeenAt, sql`now() - make_interval(secs => ${hostTtlMs / 1000})`),
        ),
      )
      .returning({ id: h.id, name: h.name, lastSeenAt: h.lastSeenAt });
    for (const host of down) {
      await recordEvent(tx, {
        kind: "host.down",
        subjectType: "host",
        subjectId: host.id,
        message: `${host.name} missed its heartbeats for ${Math.round(hostTtlMs / 1000)} s and is down`,
        data: { lastSeenAt: host.lastSeenAt.toISOString() },
      });
    }
    return down.map((d) => d.id);
  });
}

/** The node monitor loop. `stop()` waits for a tick in progress to finish. */
export function startNodeMonitor(options: NodeMonitorOptions): { stop(): Promise<void> } {
  const log = options.log.child({ component: "node-monitor" });
  const interval = options.intervalMs ?? Math.min(1000, Math.max(50, options.hostTtlMs / 4));
  const startAfter = Date.now() + (options.startupGraceMs ?? options.hostTtlMs);
  let running: Promise<void> | null = null;
  const tick = async () => {
    if (Date.now() < startAfter) return;
    try {
      const down = await markSilentHostsDown(options.db, options.hostTtlMs);
      for (const id of down) {
        log.warn({ hostId: id }, "host is down");
        await options.feed.publish({ topic: "hosts", id });
      }
      if (down.length > 0 && (await markTasksLost(options.db, down)) > 0) {
        await options.feed.publish({ topic: "stacks" });
      }
    } catch (err) {
      log.error({ err }, "node monitor tick failed");
    }
  };
  const timer = setInterval(() => {
    if (!running) running = tick().finally(() => (running = null));
  }, interval);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
