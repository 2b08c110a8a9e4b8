import { createDb, type Database } from "@berth/db";
import type pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Change, createChangeFeed } from "./feed.ts";

let database: Database;
beforeAll(() => {
  database = createDb(inject("databaseUrl"));
});
afterAll(async () => {
  await database.close();
});

const log = pino({ level: "silent" });

/** Resolves with the changes `got` holds once `done` says so (polls; fails after `ms`). */
async function until(got: Change[], done: (changes: Change[]) => boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!done(got)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return got;
}

describe("change feed", () => {
  it("delivers a published change to every subscriber, and none after unsubscribing", async () => {
    const feed = await createChangeFeed(database.pool, log);
    const a: Change[] = [];
    const b: Change[] = [];
    feed.subscribe((c) => a.push(c));
    const stopB = feed.subscribe((c) => b.push(c));
    await feed.publish({ topic: "stacks", id: "shop" });
    await until(a, (g) => g.some((c) => c.id === "shop"), "the first change");
    await until(b, (g) => g.some((c) => c.id === "shop"), "the first change, second subscriber");
    stopB();
    await feed.publish({ topic: "hosts", id: "h1" });
    await until(a, (g) => g.some((c) => c.id === "h1"), "the second change");
    expect(b.some((c) => c.id === "h1")).toBe(false);
    await feed.close();
  });

  it("connects again when its connection is killed, announces every topic, and delivers again", async () => {
    const feed = await createChangeFeed(database.pool, log, { first: 50, max: 200 });
    const got: Change[] = [];
    feed.subscribe((c) => got.push(c));
    const killed = await database.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and query = 'listen berth_changes' and pid <> pg_backend_pid()`,
    );
    expect(killed.rowCount).toBe(1);
    await until(
      got,
      (g) => ["hosts", "stacks", "tasks", "registry"].every((t) => g.some((c) => c.topic === t)),
      "the announcement after reconnecting",
    );
    await feed.publish({ topic: "tasks", id: "after" });
    await until(got, (g) => g.some((c) => c.id === "after"), "a change after reconnecting");
    await feed.close();
    // Closed: nothing more arrives, and the pool's own clients are unaffected.
    const before = got.length;
    await feed.publish({ topic: "tasks", id: "late" });
    await new Promise((r) => setTimeout(r, 200));
    expect(got.length).toBe(before);
    expect((await database.pool.query("select 1 as one")).rows[0].one).toBe(1);
  });

  it("waits longer after each refused LISTEN (as behind a transaction pooler), then connects and announces", async () => {
    // The database's own pool, except that LISTEN is refused on the 2nd–4th connections.
    const attempts: number[] = [];
    const pool = {
      async connect() {
        const client = await database.pool.connect();
        attempts.push(Date.now());
        if (attempts.length >= 2 && attempts.length <= 4) {
          const query = client.query.bind(client);
          client.query = ((text: unknown, ...rest: unknown[]) =>
            typeof text === "string" && text.startsWith("listen")
              ? Promise.reject(new Error("LISTEN is not allowed in transaction pooling mode"))
              : (query as (...args: unknown[]) => unknown)(text, ...rest)) as typeof client.query;
        }
        return client;
      },
      query: database.pool.query.bind(database.pool),
    } as unknown as pg.Pool;
    const feed = await createChangeFeed(pool, log, { first: 40, max: 160 });
    const got: Change[] = [];
    feed.subscribe((c) => got.push(c));
    await database.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and query = 'listen berth_changes' and pid <> pg_backend_pid()`,
    );
    await until(got, (g) => g.some((c) => c.topic === "stacks"), "the announcement after three refusals");
    expect(attempts).toHaveLength(5);
    const gaps = attempts.slice(2).map((t, i) => t - attempts[i + 1]!);
    // 80 and 160 after the first two refusals, then the 160 ms cap (timers never fire early).
    expect(gaps[0]).toBeGreaterThanOrEqual(75);
    expect(gaps[1]).toBeGreaterThanOrEqual(150);
    expect(gaps[2]).toBeGreaterThanOrEqual(150);
    expect(gaps[2]).toBeLessThan(1_000);
    await feed.publish({ topic: "tasks", id: "after" });
    await until(got, (g) => g.some((c) => c.id === "after"), "a change after reconnecting");
    await feed.close();
  });

  it("fails to start when LISTEN is refused, and tries no more", async () => {
    let connects = 0;
    const pool = {
      async connect() {
        connects += 1;
        const client = await database.pool.connect();
        client.query = (() =>
          Promise.reject(new Error("LISTEN is not allowed"))) as unknown as typeof client.query;
        return client;
      },
    } as unknown as pg.Pool;
    await expect(createChangeFeed(pool, log, { first: 20, max: 20 })).rejects.toThrow(
      "LISTEN is not allowed",
    );
    await new Promise((r) => setTimeout(r, 150));
    expect(connects).toBe(1);
  });
});
