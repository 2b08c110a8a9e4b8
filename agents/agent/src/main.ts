import { runCli } from "./cli/program.ts";

// The berth-agent executable. Everything else is importable without side effects.
process.exitCode = await runCli(process.argv);
