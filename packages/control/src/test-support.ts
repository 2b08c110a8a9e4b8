import { randomBytes } from "node:crypto";
import type { HostFacts } from "@berth/protocol";

/** Facts as an agent would send them, with a unique hostname per call (for tests). */
export function sampleFacts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    hostname: `test-${randomBytes(4).toString("hex")}`,
    os: "Debian GNU/Linux 12 (bookworm)",
    arch: "x64",
    kernel: "6.18.0",
    cpus: 2,
    memoryBytes: 24 * 1024 ** 3,
    cgroupMode: "hybrid",
    runtime: { name: "runc", version: "1.1.5" },
    conmon: { version: "2.1.6" },
    cniPlugins: ["bridge", "host-local", "portmap"],
    ...overrides,
  };
}
