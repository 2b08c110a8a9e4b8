import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { networkConfigPath } from "../cli/containers/context.ts";
import { createImageStore } from "../images/index.ts";
import { createNetworkManager } from "../network/index.ts";
import { createRuncRuntime, type RuncRuntime } from "../runtime/runc/runtime.ts";
import { createVolumeStore } from "../volumes/index.ts";
import { makeBusyboxRootfs } from "./busybox.ts";

export const AGENT_BUNDLE = fileURLToPath(new URL("../../dist/berth-agent.js", import.meta.url));

export interface TestEngine {
  stateDir: string;
  runtime: RuncRuntime;
  image: string;
  bridge: string;
  subnet: string;
  /** argv prefix that runs the built agent on this state dir. */
  agent: string[];
  cleanup(): Promise<void>;
}

/**
 * A real engine on a state directory of its own, with its own bridge and
 * subnet (so tests never touch a real berth0), a busybox image imported, and
 * conmon's exit handler pointing at the built agent (dist/berth-agent.js).
 */
export async function createTestEngine(): Promise<TestEngine> {
  const base = await mkdtemp(path.join(os.tmpdir(), "berth-engine-"));
  const stateDir = path.join(base, "state");
  const suffix = randomBytes(2).toString("hex");
  const octet = 100 + (randomBytes(1)[0]! % 100);
  const network = {
    subnet: `10.${octet}.${randomBytes(1)[0]}.0/24`,
    bridgeName: `bt${suffix}`,
    networkName: `berth-test-${suffix}`,
    netnsPrefix: `bt${suffix}-`,
  };
  await mkdir(path.dirname(networkConfigPath(stateDir)), { recursive: true });
  await writeFile(networkConfigPath(stateDir), JSON.stringify(network));
  const log = pino({ level: "silent" });
  const images = createImageStore(stateDir);
  const rootfs = await makeBusyboxRootfs(path.join(base, "busybox"));
  await images.importDirectory(rootfs, { name: "busybox" });
  const agent = [process.execPath, AGENT_BUNDLE, "--state-dir", stateDir];
  const runtime = createRuncRuntime({
    stateDir,
    log,
    images,
    volumes: createVolumeStore(stateDir),
    network: createNetworkManager({ stateDir, log, ...network }),
    exitCommand: [...agent, "container-exited"],
    cgroupParent: `berth-test-${suffix}`,
  });
  return {
    stateDir,
    runtime,
    image: "busybox",
    bridge: network.bridgeName,
    subnet: network.subnet,
    agent,
    async cleanup() {
      for (const c of await runtime.list({ all: true }).catch(() => [])) {
        await runtime.remove(c.id, { force: true }).catch(() => {});
      }
      const { runProgram } = await import("../exec.ts");
      await runProgram("ip", ["link", "delete", network.bridgeName]).catch(() => {});
      await rm(base, { recursive: true, force: true });
    },
  };
}
