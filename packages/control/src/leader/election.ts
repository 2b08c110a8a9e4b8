// Leader election over a Postgres session-level advisory lock held on a dedicated connection.
import os from "node:os";
import { connectDedicated } from "@berth/db";
import type pg from "pg";
import type { Logger } from "pino";
import { LEADER_APP_PREFIX, leaderLockKeys, normaliseIdentity } from "./lock.ts";

/** The leadership the control plane's loops run under. */
export const CONTROL_PLANE_LEADERSHIP = "berth-control-plane";

/** Something started that can be stopped; `stop()` resolves once it has stopped. */
export interface Stoppable {
  stop(): void | Promise<void>;
}

/** Work only the leader does: started each time this replica becomes leader, stopped when it stops. */
export interface LeaderTask {
  /** For logs. */
  name: string;
  start(): Stoppable | Promise<Stoppable>;
}

export interface LeaderOptions {
  /** The database the replicas share; the lock lives on a dedicated connection to it. */
  databaseUrl: string;
  /** Which leadership this is: replicas with the same name compete. Default `CONTROL_PLANE_LEADERSHIP`. */
  name?: string;
  /** How this replica is shown to others (`currentLeader`). Default `hostname:pid`. */
  identity?: string;
  /** How often a follower tries to take the lock. Default 2 s. */
  retryIntervalMs?: number;
  /** How often the leader checks that its connection (so its lock) is alive. Default 2 s. */
  checkIntervalMs?: number;
  /** How long a check (or an attempt to take the lock) may take before the connection counts as lost. Default 5 s. */
  checkTimeoutMs?: number;
  tasks: LeaderTask[];
  log: Logger;
}

export interface LeaderElection {
  readonly name: string;
  readonly identity: string;
  /** True while this replica holds the lock and its tasks run. */
  isLeader(): boolean;
  /** Called after each change of leadership (after the tasks started, or after they stopped). */
  onChange(listener: (leading: boolean) => void): () => void;
  /** Stops the tasks, releases the lock and closes the connection; no further attempts. */
  stop(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Run `tasks` on exactly one replica at a time. Each replica keeps one
 * dedicated connection and tries `pg_try_advisory_lock` every
 * `retryIntervalMs`; the one that gets it starts the tasks. The lock belongs
 * to the session, so it goes when the leader's connection goes — a crash, a
 * killed backend, a network cut (TCP keep-alive) — and a follower takes over
 * at its next try. The leader checks its connection every `checkIntervalMs`
 * and on any error or a check slower than `checkTimeoutMs` stops its tasks at once, drops the connection
 * (releasing the lock if Postgres still held it) and becomes a follower.
 *
 * Tasks must tolerate a short overlap: the old leader stops its tasks when it
 * notices the loss, which may be after Postgres let another replica take
 * the lock. Write them as idempotent steps or with optimistic concurrency.
 */
export function runAsLeader(o: LeaderOptions): LeaderElection {
  const name = o.name ?? CONTROL_PLANE_LEADERSHIP;
  const identity = normaliseIdentity(o.identity ?? `${os.hostname()}:${process.pid}`);
  const [classKey, nameKey] = leaderLockKeys(name);
  const retryMs = o.retryIntervalMs ?? 2000;
  const checkMs = o.checkIntervalMs ?? 2000;
  const timeoutMs = o.checkTimeoutMs ?? 5000;
  const log = o.log.child({ component: "leader", leadership: name, identity });
  const listeners = new Set<(leading: boolean) => void>();

  let client: pg.Client | null = null;
  let leading = false;
  let stopped = false;
  let running: { name: string; handle: Stoppable }[] = [];
  let timer: NodeJS.Timeout | undefined;
  // Every transition runs in this chain, one at a time.
  let chain: Promise<void> = Promise.resolve();
  const serial = (step: () => Promise<void>) => {
    chain = chain.then(step).catch((err: unknown) => log.error({ err }, "leader election step failed"));
    return chain;
  };
  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => void serial(tick), ms);
  };

  async function connect(): Promise<pg.Client> {
    const c = await connectDedicated(o.databaseUrl, { applicationName: `${LEADER_APP_PREFIX}${identity}` });
    c.on("error", (err) => void serial(() => lost(c, err)));
    c.on("end", () => void serial(() => lost(c, new Error("the connection ended"))));
    return c;
  }

  /** Forget the connection; ending the session releases the lock if Postgres still holds it. */
  function dropClient() {
    const c = client;
    client = null;
    if (!c) return;
    c.removeAllListeners();
    c.on("error", () => {});
    void c.end().catch(() => {});
  }

  async function gain() {
    leading = true;
    log.info("this replica is now the leader");
    for (const task of o.tasks) {
      try {
        running.push({ name: task.name, handle: await task.start() });
      } catch (err) {
        log.error({ err, task: task.name }, "a leader task failed to start");
      }
    }
    for (const listener of listeners) listener(true);
  }

  async function lose(reason: string) {
    if (!leading) return;
    leading = false;
    log.warn({ reason }, "this replica is no longer the leader: stopping its tasks");
    const tasks = running.reverse();
    running = [];
    for (const { name: task, handle } of tasks) {
      await Promise.resolve()
        .then(() => handle.stop())
        .catch((err: unknown) => log.error({ err, task }, "a leader task failed to stop"));
    }
    for (const listener of listeners) listener(false);
  }

  async function lost(c: pg.Client, err: Error) {
    if (c !== client) return; // an old connection, already dropped
    log.warn({ err: err.message }, "the leader election's connection was lost");
    dropClient();
    await lose("connection lost");
    schedule(retryMs);
  }

  async function tick() {
    if (stopped) return;
    if (leading) {
      const c = client!;
      try {
        await withTimeout(c.query("select 1"), timeoutMs, "the leader's connection check");
        schedule(checkMs);
      } catch (err) {
        await lost(c, err as Error);
      }
      return;
    }
    try {
      client ??= await connect();
      const { rows } = await withTimeout(
        client.query<{ ok: boolean }>("select pg_try_advisory_lock($1, $2) as ok", [classKey, nameKey]),
        timeoutMs,
        "taking the leader lock",
      );
      if (rows[0]?.ok && !stopped) await gain();
      schedule(leading ? checkMs : retryMs);
    } catch (err) {
      log.warn({ err: (err as Error).message }, "could not try the leader lock; trying again later");
      dropClient();
      schedule(retryMs);
    }
  }

  schedule(0);
  return {
    name,
    identity,
    isLeader: () => leading,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      return serial(async () => {
        await lose("stopping");
        const c = client;
        if (!c) return;
        client = null;
        c.removeAllListeners();
        c.on("error", () => {});
        // Ending the session releases the lock; a dead server must not hold up shutdown.
        await withTimeout(c.end(), timeoutMs, "closing the leader connection").catch(() => {});
      });
    },
  };
}
