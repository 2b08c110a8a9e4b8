// The advisory lock a leadership is, and who holds it (read from Postgres itself).
import type pg from "pg";

/** First key of every Berth advisory lock ("BERT"), so ours never collide with others' in the database. */
export const LOCK_CLASS = 0x42455254;
/** Prefix of the leader connection's `application_name`; the identity follows. */
export const LEADER_APP_PREFIX = "berth-leader ";
/** Postgres keeps 63 bytes of an application_name. */
const MAX_IDENTITY = 63 - LEADER_APP_PREFIX.length;

/** The two int4 keys of `pg_advisory_lock(int, int)` for a leadership's name (FNV-1a of the name). */
export function leaderLockKeys(name: string): [number, number] {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return [LOCK_CLASS, (hash >>> 0) & 0x7fffffff];
}

/** An identity as it fits an application_name (ASCII, at most 50 characters). */
export function normaliseIdentity(identity: string): string {
  return identity.replace(/[^\x20-\x7e]/g, "?").slice(0, MAX_IDENTITY);
}

export interface LeaderInfo {
  /** The identity the leader gave (`runAsLeader`'s `identity`). */
  identity: string;
  /** The Postgres backend holding the lock. */
  pid: number;
  /** When the leader's connection was opened. */
  connectedAt: Date;
}

/**
 * Who holds the leadership `name` now, as Postgres sees it (`pg_locks` and
 * `pg_stat_activity`), from any connection to the same database; null when
 * nobody does. Nothing is stored: a leader that dies stops being shown the
 * moment Postgres drops its session.
 */
export async function currentLeader(
  queryable: Pick<pg.Pool, "query"> | Pick<pg.Client, "query">,
  name: string,
): Promise<LeaderInfo | null> {
  const [classid, objid] = leaderLockKeys(name);
  const { rows } = await queryable.query<{ application_name: string; pid: number; backend_start: Date }>(
    `select a.application_name, a.pid, a.backend_start
       from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted
        and l.classid = $1::bigint::oid and l.objid = $2::bigint::oid and l.objsubid = 2
        and l.database = (select oid from pg_database where datname = current_database())
      limit 1`,
    [classid, objid],
  );
  const row = rows[0];
  if (!row) return null;
  const identity = row.application_name.startsWith(LEADER_APP_PREFIX)
    ? row.application_name.slice(LEADER_APP_PREFIX.length)
    : row.application_name;
  return { identity, pid: row.pid, connectedAt: row.backend_start };
}
