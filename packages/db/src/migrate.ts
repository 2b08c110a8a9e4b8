import { createRequire } from "node:module";
import path from "node:path";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import type { Db } from "./client.ts";

/**
 * The SQL migrations drizzle-kit generated, found through this package's own
 * package.json so the path is right whether the caller runs from source or
 * from a bundle.
 */
export function migrationsFolder(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("@berth/db/package.json")), "drizzle");
}

/** Apply every pending migration. Safe to run at each start-up and from several replicas. */
export async function runMigrations(db: Db): Promise<void> {
  await migrate(db, { migrationsFolder: migrationsFolder() });
}
