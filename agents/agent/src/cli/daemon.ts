import type { Credentials } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { type AgentConnection, createAgentConnection } from "../connection.ts";
import { loadEnv, loadSystemEnv } from "../env.ts";
import { collectFacts } from "../facts.ts";
import { createLogger, type Logger, type LogLevel } from "../logger.ts";
import { loadCredential } from "../state.ts";
import { adoptContainers, startSupervisor } from "../supervisor/supervisor.ts";
import { createLocalDriver } from "../tasks/driver.ts";
import { createTaskSetStore } from "../tasks/persist.ts";
import { createStatusReporter } from "../tasks/reporter.ts";
import { createTaskRunner } from "../tasks/runner.ts";
import { normaliseServerUrl } from "../url.ts";
import { AGENT_VERSION } from "../version.ts";
import { createLocalEngine } from "./containers/context.ts";
import { controlPlaneRegistry, registryClientFor } from "./containers/registry.ts";
import { type CliIo, errorLine, usageError } from "./io.ts";

export interface DaemonFlags {
  server?: string;
  joinToken?: string;
  stateDir?: string;
  logLevel?: LogLevel;
  hollow?: string;
  hollowFirst?: string;
}

export interface DaemonConfig {
  server: string | null;
  joinToken: string | undefined;
  stateDir: string;
  logLevel: LogLevel;
}

/** Flags override the environment. The server may still be unknown: the stored credential names it. */
export function resolveDaemonConfig(flags: DaemonFlags): DaemonConfig {
  const env = loadEnv();
  let server = env.BERTH_SERVER ?? null;
  if (flags.server !== undefined) {
    try {
      server = normaliseServerUrl(flags.server);
    } catch (err) {
      throw usageError(`--server: ${(err as Error).message}`, err);
    }
  }
  return {
    server,
    joinToken: flags.joinToken || env.BERTH_JOIN_TOKEN,
    stateDir: flags.stateDir || env.BERTH_AGENT_STATE_DIR,
    logLevel: flags.logLevel ?? env.BERTH_LOG_LEVEL,
  };
}

/** The default command: join (or reconnect) and stay connected until SIGINT/SIGTERM. */
export async function daemonCommand(flags: DaemonFlags, io: CliIo): Promise<void> {
  const config = resolveDaemonConfig(flags);
  const log = createLogger(config.logLevel);
  const server = config.server ?? (await loadCredential(config.stateDir))?.server;
  if (!server) {
    throw usageError("no control-plane URL: pass --server URL or set BERTH_SERVER");
  }
  log.info({ version: AGENT_VERSION, server, stateDir: config.stateDir }, "berth-agent starting");
  const facts = await collectFacts({
    searchPath: loadSystemEnv().PATH,
    log: log.child({ component: "facts" }),
  });
  log.info({ facts }, "host facts collected");
  // Containers first: they run whatever the control plane's state.
  const engine = createLocalEngine({
    stateDir: config.stateDir,
    log,
    allowHostBinds: loadEnv().BERTH_ALLOW_HOST_BINDS,
  });
  await adoptContainers(engine.runtime, engine.network, log).catch((err) =>
    log.error(errorFields(err), "adopting containers failed"),
  );
  const supervisor = startSupervisor({ runtime: engine.runtime, network: engine.network, log });
  let hostCredential: Credentials | undefined;
  const readHostCredential = async () => {
    const stored = await loadCredential(config.stateDir).catch(() => null);
    hostCredential = stored ? { username: stored.hostId, password: stored.secret } : undefined;
  };
  await readHostCredential();
  // The task set the control plane gave last goes on being run, connected or not.
  let connection: AgentConnection | null = null;
  const reporter = createStatusReporter({
    version: () => runner.version,
    statuses: () => runner.statuses(),
    send: (frame) => connection?.send(frame) ?? false,
  });
  const runner = createTaskRunner({
    driver: createLocalDriver({
      ...engine,
      // Images from the control plane's own registry are pulled with this host's credential.
      registry: () =>
        registryClientFor(
          {},
          loadEnv(),
          controlPlaneRegistry(server, () => hostCredential),
        ),
    }),
    log,
    store: createTaskSetStore(config.stateDir),
    onStatus: (status) => reporter.changed(status),
  });
  await runner.start();
  connection = createAgentConnection({
    server,
    stateDir: config.stateDir,
    joinToken: config.joinToken,
    facts,
    log,
    onTasks: (tasks) => runner.setTasks(tasks),
    onWelcome: (welcome) => {
      void readHostCredential();
      runner.setHost(welcome.hostId);
      reporter.sendAll();
    },
  });
  const removeHandlers = handleSignals(log, io, async () => {
    await connection?.stop();
    await runner.stop();
    reporter.stop();
    await supervisor.stop();
  });
  try {
    await connection.run();
    log.info("stopped");
  } catch (err) {
    log.fatal(errorFields(err), "cannot continue");
    throw err;
  } finally {
    removeHandlers();
    await runner.stop();
    reporter.stop();
    await supervisor.stop();
  }
}

export function handleSignals(log: Logger, io: CliIo, stop: () => Promise<void>): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      io.stderr(errorLine(new BerthError("Unavailable", `second ${signal} while stopping; exiting now`)));
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, "stopping");
    void stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof BerthError) return { code: err.code, error: err.message };
  return { error: err instanceof Error ? err.message : String(err) };
}
