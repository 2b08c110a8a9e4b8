import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createJoinToken, ensureFirstAdmin, SYSTEM_ACTOR } from "@berth/control";
import { createDb, runMigrations } from "@berth/db";
import { startEmbeddedPostgres } from "@berth/db/embedded";
import pino from "pino";
import { loadEnv } from "../env.ts";
import { startControlPlane } from "./control-plane.ts";
import { createPages } from "./pages.ts";
import { VERSION } from "./version.ts";

/** The `berth` control-plane process: `node apps/web/dist/server.js`. */
async function main() {
  const env = loadEnv();
  const log = pino({ level: env.BERTH_LOG_LEVEL, base: { service: "berth-control-plane" } });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  await mkdir(env.BERTH_HOME, { recursive: true, mode: 0o711 });

  let databaseUrl = env.DATABASE_URL;
  let stopPostgres: (() => Promise<void>) | null = null;
  if (!databaseUrl) {
    const dataDir = path.join(env.BERTH_HOME, "postgres");
    log.info({ dataDir }, "starting the embedded Postgres (set DATABASE_URL to use your own)");
    const pg = await startEmbeddedPostgres({
      dataDir,
      onLog: (line) => log.debug({ component: "postgres" }, line),
    });
    databaseUrl = pg.url;
    stopPostgres = pg.stop;
  }

  // Migrate and create the first admin before serving anything.
  const setup = createDb(databaseUrl, { max: 1 });
  await runMigrations(setup.db);
  const admin = await ensureFirstAdmin(setup.db, env.BERTH_ADMIN_PASSWORD);
  if (env.BERTH_LOCAL_AGENT) await writeLocalJoinToken(setup.db, env.BERTH_HOME);
  await setup.close();

  const dev = env.NODE_ENV === "development";
  const webRoot = fileURLToPath(
    new URL(import.meta.url.includes("/dist/") ? ".." : "../..", import.meta.url),
  );
  const pages = await createPages({ dev, dir: webRoot });
  const running = await startControlPlane({
    databaseUrl,
    log,
    version: VERSION,
    port: env.PORT,
    host: env.HOST,
    hostTtlMs: env.BERTH_HOST_TTL_MS,
    heartbeatIntervalMs: env.BERTH_HEARTBEAT_MS,
    secureCookies: env.BERTH_PUBLIC_URL?.startsWith("https://") ?? false,
    pages,
    registryDir: path.join(env.BERTH_HOME, "registry"),
    publicUrl: env.BERTH_PUBLIC_URL,
    leaderRetryMs: env.BERTH_LEADER_RETRY_MS,
    registryGc: { intervalMs: env.BERTH_REGISTRY_GC_INTERVAL_MS, graceMs: env.BERTH_REGISTRY_GC_GRACE_MS },
  });
  const publicUrl = env.BERTH_PUBLIC_URL ?? running.url;
  out("");
  out(`  Berth ${VERSION} is up: open ${publicUrl}`);
  if (admin) {
    out(
      `  Log in as "${admin.username}"${admin.generated ? ` with the one-time password: ${admin.password}` : " with BERTH_ADMIN_PASSWORD"}`,
    );
    if (admin.generated) out("  (it is shown only this once: keep it now)");
  }
  out(
    `  Agents join with: berth-agent --server ${publicUrl} --join-token <token from the dashboard or \`berth join-token create\`>`,
  );
  out("");

  const shutdown = async (signal: string) => {
    log.info({ signal }, "shutting down");
    await running.stop();
    await stopPostgres?.().catch((err: unknown) => log.debug({ err }, "stopping Postgres failed"));
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

/**
 * For `npm start`: a one-use join token for the agent on this machine, left
 * in BERTH_HOME (mode 0600) until that agent has joined and holds its own
 * credential.
 */
async function writeLocalJoinToken(db: Parameters<typeof createJoinToken>[0], home: string) {
  const joined = await stat(path.join(home, "agent", "credential.json")).then(
    () => true,
    () => false,
  );
  if (joined) return;
  const { token } = await createJoinToken(db, SYSTEM_ACTOR, {
    description: "the agent on the control-plane machine (npm start)",
    ttlMs: 15 * 60_000,
  });
  await writeFile(path.join(home, "local-join-token"), `${token}\n`, { mode: 0o600 });
}

main().catch((err) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
