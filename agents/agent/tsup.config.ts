import { defineConfig } from "tsup";

/**
 * One self-contained ESM file: `scp dist/berth-agent.js host:` and run it
 * with Node 20. Dependencies are bundled; the CommonJS ones (pino, ws,
 * commander) call `require` for Node built-ins, so the banner gives the
 * bundle a real `require`.
 */
export default defineConfig({
  entry: { "berth-agent": "src/main.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  splitting: false,
  sourcemap: false,
  dts: false,
  noExternal: [/.*/],
  banner: {
    js: [
      "#!/usr/bin/env node",
      'import { createRequire as __berthCreateRequire } from "node:module";',
      "const require = __berthCreateRequire(import.meta.url);",
    ].join("\n"),
  },
});
