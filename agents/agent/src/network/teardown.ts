import { BerthError } from "@berth/protocol";
import type { Logger } from "../logger.ts";
import { type CniContext, delNetworkList } from "./cni-exec.ts";
import { hostLocalIpam, portMappingsRuntimeConfig } from "./conflist.ts";
import { listReservations, releaseReservations, resultFromReservations } from "./ipam.ts";
import { sweepContainerRules } from "./iptables.ts";
import { deleteNetns, netnsExists, netnsPathFor } from "./netns.ts";
import type { AttachmentRecord } from "./store.ts";

/** Undoing an attachment: CNI DEL, leftover rules, the netns, IPAM reservations. */

export interface PluginEnv {
  binDirs: readonly string[];
  pathEnv: string;
  timeoutMs: number;
}

/**
 * Undo everything `record` may have created, whatever state it is in (a
 * complete attachment, or one interrupted half way). Lists are deleted in
 * reverse order of their ADD; every step runs even when an earlier one
 * failed. Returns the failures; an empty array means nothing is left.
 */
export async function teardownRecord(
  record: AttachmentRecord,
  env: PluginEnv,
  log: Logger,
): Promise<BerthError[]> {
  const failures: BerthError[] = [];
  const { containerId } = record;
  const alive = record.netns ? await netnsExists(record.netns) : false;
  for (const network of [...record.networks].reverse()) {
    const ipam = hostLocalIpam(network.conflist);
    let cached = network.result;
    if (!cached && ipam) {
      // ADD never finished (a crash, or a failed plugin): rebuild enough of its result for DEL.
      const reservations = await listReservations(ipam.dataDir, network.conflist.name).catch(() => []);
      cached = resultFromReservations(reservations, containerId, ipam.subnet, network.conflist.cniVersion);
    }
    const ctx: CniContext = {
      containerId,
      netns: alive && record.netns ? netnsPathFor(record.netns) : "",
      ifname: network.ifname,
      ...env,
      runtimeConfig: { portMappings: portMappingsRuntimeConfig(record.ports) },
    };
    const delFailures = await delNetworkList(network.conflist, ctx, cached);
    failures.push(...delFailures);
    if (!ipam) continue;
    if (!alive || delFailures.length > 0) {
      // The bridge plugin removes its masquerade rules only from inside a living netns.
      try {
        const swept = await sweepContainerRules(network.conflist.name, containerId);
        if (swept.rulesRemoved + swept.chainsRemoved > 0) {
          log.info({ containerId, ...swept }, "removed leftover iptables rules of a container");
        }
      } catch (err) {
        failures.push(asBerthError(err, `removing leftover iptables rules of ${containerId}`));
      }
    }
    try {
      const mine = (await listReservations(ipam.dataDir, network.conflist.name)).filter(
        (r) => r.containerId === containerId,
      );
      const released = await releaseReservations(mine, () => false);
      if (released.length > 0) {
        log.info({ containerId, ips: released.map((r) => r.ip) }, "released leftover IPAM reservations");
      }
    } catch (err) {
      failures.push(asBerthError(err, `releasing the IPAM reservations of ${containerId}`));
    }
  }
  if (record.netns) {
    try {
      await deleteNetns(record.netns);
    } catch (err) {
      failures.push(asBerthError(err, `deleting network namespace ${record.netns}`));
    }
  }
  return failures;
}

/** One error for several failures, naming each. */
export function combineFailures(what: string, failures: readonly BerthError[]): BerthError {
  if (failures.length === 1 && failures[0]) {
    return new BerthError(failures[0].code, `${what}: ${failures[0].message}`, { cause: failures[0] });
  }
  const list = failures.map((f, i) => `(${i + 1}) ${f.message}`).join("; ");
  return new BerthError("Internal", `${what}: ${failures.length} steps failed: ${list}`, {
    cause: new AggregateError(failures),
  });
}

export function asBerthError(err: unknown, what: string): BerthError {
  if (err instanceof BerthError) return err;
  return new BerthError("Internal", `${what}: ${(err as Error).message ?? String(err)}`, { cause: err });
}
