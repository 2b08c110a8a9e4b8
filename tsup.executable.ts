import type { Options } from "tsup";

/**
 * A command-line program as one self-contained ESM file for Node 20 (the
 * agent, the CLI): every dependency is bundled, so it starts from one file
 * and can be copied to a host as it is. The CommonJS dependencies (pino, ws,
 * commander) call `require` for Node built-ins, so the banner gives the
 * bundle a real `require`.
 */
export function executable(name: string, entry = "src/main.ts"): Options {
  return {
    entry: { [name]: entry },
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
  };
}
