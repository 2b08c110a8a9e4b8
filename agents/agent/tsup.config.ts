import { defineConfig } from "tsup";
import { executable } from "../../tsup.executable.ts";

// `scp dist/berth-agent.js host:` and run it with Node 20.
export default defineConfig(executable("berth-agent"));
