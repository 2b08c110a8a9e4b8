import { runCli } from "./program.ts";

// `berth hosts ls | head`: the reader went away, so there is nobody left to tell.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
  process.exit(0);
});

// The `berth` executable. Everything else is importable without side effects.
process.exitCode = await runCli(process.argv);
