import type pg from "pg";
import type { Logger } from "pino";

/**
 * Topics published when something a dashboard shows has changed. After the feed reconnects, each
 * is announced once (what changed meanwhile is unknown).
 */
const TOPICS = ["hosts", "join-tokens", "events", "registry", "stacks", "tasks"] as const;
export type ChangeTopic = (typeof TOPICS)[number];
export interface Change {
  topic: ChangeTopic;
  id?: string;
}

export interface ChangeFeed {
  publish(change: Change): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (change: Change) => void): () => void;
  close(): Promise<void>;
}

const CHANNEL = "berth_changes";
const RETRY_MS = { first: 250, max: 5_000 };

/**
 * A change feed over Postgres LISTEN/NOTIFY, so every control-plane replica
 * (and every browser connected to any of them) hears about a change made by
 * any other. Delivery is best effort: subscribers refetch what they show, so a
 * lost notification costs one stale view until the next change. The LISTEN
 * connection is held for the feed's life; when it fails, the feed connects
 * again (with growing pauses) and then announces every topic once, so what
 * changed while it was away is refetched.
 */
export async function createChangeFeed(
  pool: pg.Pool,
  log: Logger,
  retry: { first: number; max: number } = RETRY_MS,
): Promise<ChangeFeed> {
  const listeners = new Set<(change: Change) => void>();
  let closed = false;
  let client: pg.PoolClient | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  /** The pause before the next attempt: doubles with each failed one, back to the first once connected. */
  let pause = retry.first;
  const deliver = (change: Change) => {
    for (const listener of listeners) listener(change);
  };

  async function listen(): Promise<void> {
    const c = await pool.connect();
    let failed = false;
    // After close() the connection is close()'s to release; its errors are ignored.
    const fail = (err: Error & { code?: string }) => {
      if (failed || closed) return;
      failed = true;
      if (client === c) client = null;
      c.release(err);
      // 57P01: the server is shutting down (as on Ctrl-C with the embedded Postgres).
      if (err.code === "57P01") log.info("Postgres is shutting down; the change feed stops until it is back");
      else log.error({ err }, "change feed connection failed; connecting again");
      reconnect();
    };
    c.on("notification", (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      try {
        deliver(JSON.parse(msg.payload) as Change);
      } catch {
        // not one of ours
      }
    });
    c.on("error", fail);
    c.on("end", () => fail(new Error("the change feed's connection ended")));
    try {
      await c.query(`listen ${CHANNEL}`);
    } catch (err) {
      if (closed) c.release(true);
      else fail(err as Error);
      throw err;
    }
    if (closed) c.release(true);
    else client = c;
  }

  function reconnect(): void {
    if (closed || retryTimer) return;
    const wait = pause;
    pause = Math.min(pause * 2, retry.max);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      listen().then(
        () => {
          pause = retry.first;
          log.info("change feed connected again");
          for (const topic of TOPICS) deliver({ topic });
        },
        () => {
          // A failed LISTEN already scheduled the next attempt (fail); a failed connect did not.
          reconnect();
        },
      );
    }, wait);
    retryTimer.unref();
  }

  try {
    await listen();
  } catch (err) {
    // No feed to close: stop the attempt a failed LISTEN scheduled.
    closed = true;
    if (retryTimer) clearTimeout(retryTimer);
    throw err;
  }
  return {
    async publish(change) {
      await pool.query("select pg_notify($1, $2)", [CHANNEL, JSON.stringify(change)]);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      if (retryTimer) clearTimeout(retryTimer);
      // The connection is the feed's alone: closing it ends the LISTEN (and the server may be gone already).
      client?.release(true);
      client = null;
    },
  };
}
