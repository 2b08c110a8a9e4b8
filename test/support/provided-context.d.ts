// What test/support/postgres-setup.ts provides to the tests of the int and e2e projects.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** A migrated database shared by the tests of a run (each test uses its own ids). */
    databaseUrl: string;
  }
}
