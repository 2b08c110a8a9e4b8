import { createTestEngine } from "../../testing/engine.ts";
import { isRoot } from "../../testing/root.ts";
import { runtimeContract } from "../contract/runtime-contract.ts";

// The same behaviour the simulated runtime promises, from real containers.
if (isRoot) {
  runtimeContract(
    "runc",
    async () => {
      const engine = await createTestEngine();
      return { runtime: engine.runtime, image: engine.image, cleanup: engine.cleanup };
    },
    { testTimeoutMs: 30_000 },
  );
} else {
  process.stderr.write("skipped: the runc runtime contract needs root (real containers)\n");
}
