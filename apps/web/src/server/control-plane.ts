import type http from "node:http";
import type { AddressInfo } from "node:net";
import { createAgentGateway, createChangeFeed, startNodeMonitor } from "@berth/control";
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
 * change feed, agent gateway, node monitor and the HTTP server. Used by the
 * real entry point (with Next.js pages) and by tests (without).
 */
export async function startControlPlane(o: ControlPlaneOptions): Promise<RunningControlPlane> {
  const database = createDb(o.databaseUrl);
  await runMigrations(database.db);
  const feed = await createChangeFeed(database.pool, o.log);
  const gateway = createAgentGateway({
    db: database.db,
    feed,
    log: o.log,
    config: { heartbeatIntervalMs: o.heartbeatIntervalMs, hostTtlMs: o.hostTtlMs, serverVersion: o.version },
  });
  const monitor = startNodeMonitor({
    db: database.db,
    feed,
    log: o.log,
    hostTtlMs: o.hostTtlMs,
    startupGraceMs: o.startupGraceMs,
  });
  const cp: ControlPlane = {
    database,
    feed,
    gateway,
    version: o.version,
    secureCookies: o.secureCookies ?? false,
    // The dashboard only reads blobs; the registry server keeps its own store
    // (with upload state) over the same directory.
    registryBlobs: o.registryDir ? createFsBlobStore({ root: o.registryDir }) : undefined,
  };
  const registry = o.registryDir
    ? await createRegistryServer({ db: database.db, root: o.registryDir, log: o.log, publicUrl: o.publicUrl })
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
        gateway.closeAll();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await step("node monitor", () => monitor.stop());
        await step("change feed", () => feed.close());
        await step("database", () => database.close());
      })();
      return stopping;
    },
  };
}
