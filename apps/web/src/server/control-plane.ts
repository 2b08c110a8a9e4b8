import type http from "node:http";
import type { AddressInfo } from "node:net";
import {
  CONTROL_PLANE_LEADERSHIP,
  createAgentGateway,
  createChangeFeed,
  createDispatcher,
  type Dispatcher,
  type LeaderTask,
  orchestrationTask,
  registryGcTask,
  runAsLeader,
  startNodeMonitor,
} from "@berth/control";
import { createDb, runMigrations } from "@berth/db";
import { createFsBlobStore } from "@berth/oci";
import type { Logger } from "pino";
import { createHttpServer, type PageHandler } from "./http.ts";
import { createRegistryServer } from "./registry.ts";
import type { ControlPlane } from "./trpc/init.ts";

export interface ControlPlaneOptions {
  databaseUrl: string;
  log: Logger;
  version: string;
  port: number;
  host: string;
  hostTtlMs: number;
  heartbeatIntervalMs: number;
  secureCookies?: boolean;
  pages?: PageHandler;
  /** Where the built-in registry keeps its blobs; no registry when absent. */
  registryDir?: string;
  publicUrl?: string;
  /** Defaults to the TTL: how long after start before silent hosts are marked down. */
  startupGraceMs?: number;
  /** Which leadership this replica competes for (tests give each control plane its own). */
  leadership?: string;
  /** How this replica is shown as leader; default hostname:pid. */
  leaderIdentity?: string;
  /** How often a follower tries to become leader, and the leader checks its lock. Default 2 s. */
  leaderRetryMs?: number;
  /** How often the leader collects the registry's garbage, and how old an unreferenced blob must be. */
  registryGc?: { intervalMs?: number; graceMs?: number };
  /** How often the orchestrator looks at every service when nothing is heard. Default 1 s. */
  orchestratorIntervalMs?: number;
}

export interface RunningControlPlane {
  cp: ControlPlane;
  server: http.Server;
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  stop(): Promise<void>;
}

/**
 * Everything the control plane runs, wired together: database (migrated),
 * change feed, agent gateway, the HTTP server, and — while this replica is
 * the leader — the node monitor and the registry's garbage collection. Used by the
 * real entry point (with Next.js pages) and by tests (without).
 */
export async function startControlPlane(o: ControlPlaneOptions): Promise<RunningControlPlane> {
  const database = createDb(o.databaseUrl);
  await runMigrations(database.db);
  const feed = await createChangeFeed(database.pool, o.log);
  // Every replica dispatches task sets to the agents connected to it.
  let dispatcher: Dispatcher | undefined;
  const gateway = createAgentGateway({
    db: database.db,
    feed,
    log: o.log,
    config: { heartbeatIntervalMs: o.heartbeatIntervalMs, hostTtlMs: o.hostTtlMs, serverVersion: o.version },
    hooks: {
      connected: (hostId) => void dispatcher?.sync([hostId]),
      disconnected: (hostId) => dispatcher?.forget(hostId),
    },
  });
  dispatcher = createDispatcher({
    db: database.db,
    log: o.log,
    connectedHosts: () => gateway.connectedHosts(),
    send: (hostId, message) => gateway.send(hostId, message),
  });
  const unsubscribeDispatch = feed.subscribe((change) => {
    if (change.topic === "tasks") void dispatcher?.sync();
  });
  // Work one replica does for all: the node monitor, the orchestrator and scheduler, and the registry's garbage collection.
  const tasks: LeaderTask[] = [
    {
      name: "node-monitor",
      start: () =>
        startNodeMonitor({
          db: database.db,
          feed,
          log: o.log,
          hostTtlMs: o.hostTtlMs,
          startupGraceMs: o.startupGraceMs,
        }),
    },
    orchestrationTask({
      db: database.db,
      feed,
      log: o.log,
      ...(o.orchestratorIntervalMs ? { intervalMs: o.orchestratorIntervalMs } : {}),
    }),
  ];
  if (o.registryDir) {
    tasks.push(
      registryGcTask({
        db: database.db,
        blobs: createFsBlobStore({ root: o.registryDir }),
        feed,
        log: o.log,
        ...o.registryGc,
      }),
    );
  }
  const leader = runAsLeader({
    databaseUrl: o.databaseUrl,
    name: o.leadership ?? CONTROL_PLANE_LEADERSHIP,
    ...(o.leaderIdentity ? { identity: o.leaderIdentity } : {}),
    retryIntervalMs: o.leaderRetryMs,
    checkIntervalMs: o.leaderRetryMs,
    tasks,
    log: o.log,
  });
  const cp: ControlPlane = {
    database,
    feed,
    gateway,
    version: o.version,
    secureCookies: o.secureCookies ?? false,
    leader,
    // The dashboard only reads blobs; the registry server keeps its own store
    // (with upload state) over the same directory.
    registryBlobs: o.registryDir ? createFsBlobStore({ root: o.registryDir }) : undefined,
  };
  const registry = o.registryDir
    ? await createRegistryServer({
        db: database.db,
        root: o.registryDir,
        log: o.log,
        publicUrl: o.publicUrl,
        feed,
      })
    : undefined;
  const server = createHttpServer({ cp, log: o.log, pages: o.pages, registry });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host;
  let stopping: Promise<void> | null = null;
  return {
    cp,
    server,
    url: `http://${shownHost}:${addr.port}`,
    stop() {
      // Each step runs even if an earlier one failed (on Ctrl-C the embedded
      // Postgres receives the signal too and may already be gone).
      const step = (name: string, fn: () => unknown) =>
        Promise.resolve()
          .then(fn)
          .catch((err) => o.log.debug({ err, step: name }, "shutdown step failed"));
      stopping ??= (async () => {
        unsubscribeDispatch();
        gateway.closeAll();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await step("leader tasks", () => leader.stop());
        await step("change feed", () => feed.close());
        await step("database", () => database.close());
      })();
      return stopping;
    },
  };
}
