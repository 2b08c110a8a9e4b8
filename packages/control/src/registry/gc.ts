// Scheduled garbage collection of the built-in registry's blobs, run by the leader.
import { type Db, schema } from "@berth/db";
import { type BlobStore, collectGarbage, type GarbageReport, type RegistryMetadata } from "@berth/oci";
import { eq } from "drizzle-orm";
import type { Logger } from "pino";
import { recordEvent } from "../events.ts";
import type { ChangeFeed } from "../feed.ts";
import type { LeaderTask } from "../leader/election.ts";
import { createPgRegistryMetadata } from "./metadata.ts";

const HOUR = 3600_000;
/** How often the leader collects garbage by default: daily. */
export const DEFAULT_REGISTRY_GC_INTERVAL_MS = 24 * HOUR;
/**
 * How old an unreferenced blob must be before it goes, by default: a push
 * uploads its blobs before its manifest, and a slow push of a large image
 * must not lose the blobs it already sent.
 */
export const DEFAULT_REGISTRY_GC_GRACE_MS = 6 * HOUR;
/** Upload sessions older than this are abandoned and removed. */
export const DEFAULT_REGISTRY_UPLOAD_MAX_AGE_MS = 24 * HOUR;
/** The settings row that remembers the last collection, so a new leader keeps the rhythm. */
const LAST_RUN_KEY = "registry-gc-last-run";
/** At most this many removed digests are listed in the event. */
const MAX_LISTED = 500;
/** setTimeout's longest delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export interface RegistryGcOptions {
  db: Db;
  blobs: BlobStore;
  /** Unreferenced blobs younger than this are kept. Default `DEFAULT_REGISTRY_GC_GRACE_MS`. */
  graceMs?: number;
  /** Upload sessions older than this are removed. Default `DEFAULT_REGISTRY_UPLOAD_MAX_AGE_MS`. */
  uploadMaxAgeMs?: number;
  metadata?: RegistryMetadata;
  feed?: ChangeFeed;
  now?: Date;
}

export interface RegistryGcReport extends GarbageReport {
  /** Digests of the blobs removed. */
  removed: string[];
}

/** The store, but every successful delete is noted in `removed`. */
function noting(blobs: BlobStore, removed: string[]): BlobStore {
  return new Proxy(blobs, {
    get(target, property) {
      if (property === "delete") {
        return async (digest: string) => {
          const existed = await target.delete(digest);
          if (existed) removed.push(digest);
          return existed;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * One collection: blobs no manifest references and older than the grace
 * period, and abandoned uploads. What it removed is recorded as a
 * `registry.gc` event (subject `registry`/`blobs`) when it removed anything.
 */
export async function collectRegistryGarbage(o: RegistryGcOptions): Promise<RegistryGcReport> {
  const removed: string[] = [];
  const report = await collectGarbage({
    blobs: noting(o.blobs, removed),
    metadata: o.metadata ?? createPgRegistryMetadata(o.db),
    blobGraceMs: o.graceMs ?? DEFAULT_REGISTRY_GC_GRACE_MS,
    uploadMaxAgeMs: o.uploadMaxAgeMs ?? DEFAULT_REGISTRY_UPLOAD_MAX_AGE_MS,
    ...(o.now ? { now: o.now } : {}),
  });
  const now = o.now ?? new Date();
  await o.db
    .insert(schema.settings)
    .values({ key: LAST_RUN_KEY, value: now.toISOString() })
    .onConflictDoUpdate({ target: schema.settings.key, set: { value: now.toISOString() } });
  if (removed.length > 0 || report.uploadsDeleted > 0) {
    await recordEvent(o.db, {
      kind: "registry.gc",
      subjectType: "registry",
      subjectId: "blobs",
      message: `garbage collection removed ${removed.length} unreferenced ${removed.length === 1 ? "blob" : "blobs"} (${report.bytesFreed} bytes) and ${report.uploadsDeleted} abandoned ${report.uploadsDeleted === 1 ? "upload" : "uploads"}`,
      data: {
        blobsDeleted: report.blobsDeleted,
        bytesFreed: report.bytesFreed,
        uploadsDeleted: report.uploadsDeleted,
        blobsKept: report.blobsKept,
        digests: removed.slice(0, MAX_LISTED),
        truncated: removed.length > MAX_LISTED,
      },
    });
    await o.feed?.publish({ topic: "events" });
  }
  return { ...report, removed };
}

async function lastRun(db: Db): Promise<number | null> {
  const [row] = await db
    .select({ value: schema.settings.value })
    .from(schema.settings)
    .where(eq(schema.settings.key, LAST_RUN_KEY));
  const at = row ? Date.parse(row.value) : Number.NaN;
  return Number.isNaN(at) ? null : at;
}

/**
 * A leader task: collect the registry's garbage every `intervalMs`, the
 * first time when the last collection (by any replica) is `intervalMs` old.
 * `stop()` waits for a collection in progress.
 */
export function registryGcTask(
  o: Omit<RegistryGcOptions, "now"> & { intervalMs?: number; log: Logger },
): LeaderTask {
  const intervalMs = o.intervalMs ?? DEFAULT_REGISTRY_GC_INTERVAL_MS;
  return {
    name: "registry-gc",
    async start() {
      const log = o.log.child({ component: "registry-gc" });
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      let running: Promise<void> | null = null;
      const schedule = (ms: number) => {
        if (stopped) return;
        timer = setTimeout(
          () => {
            running = run().finally(() => {
              running = null;
            });
          },
          Math.min(Math.max(ms, 0), MAX_DELAY_MS),
        );
      };
      const run = async () => {
        try {
          const report = await collectRegistryGarbage(o);
          log.info(
            {
              blobsDeleted: report.blobsDeleted,
              bytesFreed: report.bytesFreed,
              uploadsDeleted: report.uploadsDeleted,
              blobsKept: report.blobsKept,
            },
            "registry garbage collection done",
          );
        } catch (err) {
          log.error({ err }, "registry garbage collection failed");
        }
        schedule(intervalMs);
      };
      const last = await lastRun(o.db).catch(() => null);
      schedule(last === null ? 0 : Math.min(last + intervalMs - Date.now(), intervalMs));
      return {
        async stop() {
          stopped = true;
          clearTimeout(timer);
          await running;
        },
      };
    },
  };
}
