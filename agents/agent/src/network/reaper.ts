import type { Logger } from "../logger.ts";
import { listReservations, releaseReservations } from "./ipam.ts";
import { listNetns } from "./netns.ts";
import type { AttachmentStore } from "./store.ts";
import type { CleanupReport } from "./types.ts";

/**
 * After a crash (or at every agent start): remove the network leftovers of
 * containers that no longer run — stored attachments, named netns with our
 * prefix, host-local reservations.
 */

export interface CleanupDeps {
  store: AttachmentStore;
  isLive: (containerId: string) => boolean;
  /** Every live id the caller knows (so a netns named after one is kept). */
  liveIds: Iterable<string>;
  netnsPrefix: string;
  ipam: { dataDir: string; networkName: string };
  /** Detach a container that has a (possibly corrupt) record. */
  detach: (containerId: string) => Promise<void>;
  /** Remove a netns that no record names; `containerId` when its reservation gives the full id away. */
  teardownUnknown: (containerId: string | null, netns: string) => Promise<void>;
  log: Logger;
}

export async function cleanupLeftovers(deps: CleanupDeps): Promise<CleanupReport> {
  const { store, isLive, log } = deps;
  const report: CleanupReport = { removed: [], failed: [] };
  const attempt = async (id: string, work: () => Promise<void>) => {
    try {
      await work();
      report.removed.push(id);
    } catch (err) {
      report.failed.push({ id, message: (err as Error).message });
      log.warn({ id, err }, "could not remove network leftovers; the next cleanup tries again");
    }
  };

  await store.removeTempFiles();

  // 1. Stored attachments (complete or interrupted) of containers that are gone.
  const { records, corrupt } = await store.list();
  for (const id of [...records.map((r) => r.containerId), ...corrupt]) {
    if (!isLive(id)) await attempt(id, () => deps.detach(id));
  }

  // 2. Namespaces with our prefix that no remaining record explains.
  const remaining = (await store.list()).records;
  const claimed = new Set(remaining.map((r) => r.netns).filter((n): n is string => n !== null));
  const reservations = await listReservations(deps.ipam.dataDir, deps.ipam.networkName);
  const liveShortIds = new Set([...deps.liveIds].map((id) => id.slice(0, 12)));
  for (const netns of await listNetns(deps.netnsPrefix)) {
    const short = netns.slice(deps.netnsPrefix.length);
    if (claimed.has(netns) || liveShortIds.has(short)) continue;
    const owner = reservations.find((r) => r.containerId.slice(0, 12) === short)?.containerId ?? null;
    await attempt(owner ?? netns, () => deps.teardownUnknown(owner, netns));
  }

  // 3. Reservations of containers that are neither live nor attached.
  const attached = new Set((await store.list()).records.map((r) => r.containerId));
  const stale = await listReservations(deps.ipam.dataDir, deps.ipam.networkName);
  try {
    const released = await releaseReservations(stale, (id) => isLive(id) || attached.has(id));
    for (const r of released) {
      log.info({ containerId: r.containerId, ip: r.ip }, "released a stale IPAM reservation");
      if (!report.removed.includes(r.containerId)) report.removed.push(r.containerId);
    }
  } catch (err) {
    report.failed.push({ id: deps.ipam.dataDir, message: (err as Error).message });
  }

  if (report.removed.length > 0 || report.failed.length > 0) {
    log.info({ removed: report.removed, failed: report.failed.length }, "cleaned up network leftovers");
  }
  return report;
}
