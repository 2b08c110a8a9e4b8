import { defineConfig } from "tsup";

/**
 * One self-contained ESM file that starts fast: every dependency is bundled,
 * so `node dist/berth.js` reads one file and nothing from node_modules. The
 * router is imported as a type only and is erased. Commander is CommonJS and
 * calls `require` for Node built-ins, so the banner gives the bundle a real one.
 */
export default defineConfig({
  entry: { berth: "src/main.ts" },
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
