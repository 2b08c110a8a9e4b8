import { createHollowFleet } from "../hollow/fleet.ts";
import { createLogger } from "../logger.ts";
import { AGENT_VERSION } from "../version.ts";
import { type DaemonFlags, handleSignals, resolveDaemonConfig } from "./daemon.ts";
import { type CliIo, usageError } from "./io.ts";

/** Most hollow hosts one process runs. */
export const MAX_HOLLOW_HOSTS = 10_000;

export function parseHollowCount(text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(count) || count < 1 || count > MAX_HOLLOW_HOSTS) {
    throw usageError(`--hollow: give a number of hosts from 1 to ${MAX_HOLLOW_HOSTS} (got "${text}")`);
  }
  return count;
}

/**
 * `berth-agent --hollow N --server URL --join-token T`: N simulated hosts on
 * the real protocol (src/hollow/fleet.ts) until SIGINT/SIGTERM. The join token
 * needs N uses (`berth join-token create --uses N`) until the hosts hold
 * their credentials under `<state-dir>/hollow-<i>`.
 */
export async function hollowCommand(flags: DaemonFlags, io: CliIo): Promise<void> {
  const count = parseHollowCount(flags.hollow ?? "");
  const first = flags.hollowFirst ?? "0";
  if (!/^\d{1,9}$/.test(first)) {
    throw usageError(`--hollow-first: give a host number, 0 or more (got "${first}")`);
  }
  const config = resolveDaemonConfig(flags);
  if (!config.server)
    throw usageError("--hollow needs the control plane: pass --server URL or set BERTH_SERVER");
  const log = createLogger(config.logLevel);
  log.info(
    { version: AGENT_VERSION, server: config.server, count, stateDir: config.stateDir },
    "hollow hosts starting",
  );
  const fleet = createHollowFleet({
    count,
    firstIndex: Number(first),
    server: config.server,
    joinToken: config.joinToken,
    stateDir: config.stateDir,
    log,
  });
  const removeHandlers = handleSignals(log, io, () => fleet.stop());
  try {
    await fleet.run();
    log.info("hollow hosts stopped");
  } finally {
    removeHandlers();
  }
}
