import type pg from "pg";
import type { Logger } from "pino";

/** Topics published when something a dashboard shows has changed. */
export type ChangeTopic = "hosts" | "join-tokens" | "events" | "registry" | "stacks" | "tasks";
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

/**
 * A change feed over Postgres LISTEN/NOTIFY, so every control-plane replica
 * (and every browser connected to any of them) hears about a change made by
 * any other. Delivery is best effort: subscribers refetch what they show, so a
 * lost notification costs one stale view until the next change.
 */
export async function createChangeFeed(pool: pg.Pool, log: Logger): Promise<ChangeFeed> {
  const listeners = new Set<(change: Change) => void>();
  const client = await pool.connect();
  let closed = false;
  client.on("notification", (msg) => {
    if (msg.channel !== CHANNEL || !msg.payload) return;
    let change: Change;
    try {
      change = JSON.parse(msg.payload) as Change;
    } catch {
      return;
    }
    for (const listener of listeners) listener(change);
  });
  client.on("error", (err: Error & { code?: string }) => {
    if (closed) return;
    // 57P01: the server is shutting down (as on Ctrl-C with the embedded Postgres).
    if (err.code === "57P01") log.info("Postgres is shutting down; the change feed stops");
    else log.error({ err }, "change feed connection failed");
  });
  await client.query(`listen ${CHANNEL}`);
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
      try {
        await client.query(`unlisten ${CHANNEL}`);
        client.release();
      } catch (err) {
        // The server may already be gone (Ctrl-C reaches an embedded Postgres too): drop the client.
        client.release(err instanceof Error ? err : true);
      }
    },
  };
}
