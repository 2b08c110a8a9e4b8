import type { HostFacts } from "@berth/protocol";
import { loadSystemEnv } from "../env.ts";
import { collectFacts } from "../facts.ts";
import { createLogger } from "../logger.ts";
import type { CliIo } from "./io.ts";

export type FactsFormat = "json" | "text";

/** `berth-agent facts`: print what this agent would report about the host. */
export async function factsCommand(format: FactsFormat, io: CliIo): Promise<void> {
  const log = createLogger("warn").child({ component: "facts" });
  const facts = await collectFacts({ searchPath: loadSystemEnv().PATH, log });
  io.stdout(format === "json" ? `${JSON.stringify(facts, null, 2)}\n` : formatFactsText(facts));
}

export function formatFactsText(facts: HostFacts): string {
  const rows: [string, string][] = [
    ["hostname", facts.hostname],
    ["os", facts.os],
    ["arch", facts.arch],
    ["kernel", facts.kernel],
    ["cpus", String(facts.cpus)],
    ["memory", `${(facts.memoryBytes / 2 ** 30).toFixed(1)} GiB (${facts.memoryBytes} bytes)`],
    ["cgroup mode", facts.cgroupMode],
    ["runtime", facts.runtime ? `${facts.runtime.name} ${facts.runtime.version}` : "none found (need runc)"],
    ["conmon", facts.conmon ? facts.conmon.version : "none found"],
    ["cni plugins", facts.cniPlugins.length > 0 ? facts.cniPlugins.join(", ") : "none found"],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}\n`).join("");
}
