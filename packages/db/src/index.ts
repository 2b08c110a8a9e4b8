export { connectDedicated, createDb, type Database, type Db, type Schema, type Tx } from "./client.ts";
export { hashSecret, newId, newSecret } from "./ids.ts";
export { migrationsFolder, runMigrations } from "./migrate.ts";
export type { HostAvailability, HostState, Role, StoredHostFacts } from "./schema/index.ts";
export * as schema from "./schema/index.ts";
