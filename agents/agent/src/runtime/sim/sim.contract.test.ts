import { runtimeContract } from "../contract/runtime-contract.ts";
import { createSimulatedRuntime } from "./runtime.ts";

runtimeContract("simulated", async () => ({
  runtime: createSimulatedRuntime(),
  image: "busybox",
  cleanup: async () => {},
}));
