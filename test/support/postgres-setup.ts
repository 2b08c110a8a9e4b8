import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createDb, runMigrations } from "@berth/db";
import { startEmbeddedPostgres } from "@berth/db/embedded";
import type { TestProject } from "vitest/node";

/**
 * One real Postgres for the whole run: DATABASE_URL when it is set (CI may
 * point at Debian's Postgres), otherwise the embedded one in a temp dir.
 */
export default async function setup(project: TestProject) {
  let url = process.env.DATABASE_URL;
  let stop = async () => {};
  if (!url) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "berth-test-pg-"));
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, "data") });
    url = pg.url;
    stop = async () => {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const database = createDb(url, { max: 1 });
  await runMigrations(database.db);
  await database.close();
  project.provide("databaseUrl", url);
  return stop;
}
