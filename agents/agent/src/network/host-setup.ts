import { readFile, writeFile } from "node:fs/promises";
import { BerthError } from "@berth/protocol";
import type { Logger } from "../logger.ts";
import { ensureLocalnetGuard } from "./iptables.ts";

export const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";

/**
 * Host settings bridge networking needs, made before the first plugin runs:
 * IPv4 forwarding (the bridge plugin would enable it too, silently; here it
 * is logged) and the localnet guard (see iptables.ts), inserted once per
 * manager.
 */
export function createBridgeHostSetup(bridgeName: string, log: Logger): () => Promise<void> {
  let guarded = false;
  return async () => {
    await enableIpForward(log);
    if (guarded) return;
    if (await ensureLocalnetGuard(bridgeName)) {
      log.info({ bridge: bridgeName }, "blocked new connections to 127.0.0.0/8 arriving from the bridge");
    }
    guarded = true;
  };
}

/** net.ipv4.ip_forward=1, logged when it changes. */
export async function enableIpForward(log: Logger): Promise<void> {
  try {
    const current = (await readFile(IP_FORWARD, "utf8")).trim();
    if (current === "1") return;
    await writeFile(IP_FORWARD, "1\n");
    log.info(
      { sysctl: "net.ipv4.ip_forward", from: current, to: "1" },
      "enabled IPv4 forwarding for bridge networking",
    );
  } catch (err) {
    throw new BerthError(
      "FailedPrecondition",
      `cannot enable IPv4 forwarding (${IP_FORWARD}): ${(err as Error).message}; bridge networking needs it`,
      { cause: err },
    );
  }
}
