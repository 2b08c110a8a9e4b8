import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createImageStore } from "../images/index.ts";
import { createNetworkManager } from "../network/index.ts";
import { contractConfig } from "../runtime/contract/helpers.ts";
import { createRuncRuntime } from "../runtime/runc/runtime.ts";
import type { ContainerConfig, HealthCheck } from "../runtime/types.ts";
import { createTestEngine, type TestEngine } from "../testing/engine.ts";
import { describeRoot } from "../testing/root.ts";
import { until } from "../testing/wait.ts";
import { createVolumeStore } from "../volumes/index.ts";
import { adoptContainers, startSupervisor } from "./supervisor.ts";

let engine: TestEngine;
let supervisor: { stop(): Promise<void> };
const log = pino({ level: "silent" });

/** A busybox container on the bridge network running `command`. */
function config(command: string[], over: Partial<ContainerConfig> = {}): ContainerConfig {
  return contractConfig("busybox", { network: "bridge", command, ...over });
}

const quick = { intervalMs: 200, timeoutMs: 1000, retries: 2, startPeriodMs: 0 };
const WEB = "echo ok > /tmp/index.html; httpd -f -p 8080 -h /tmp";

async function health(id: string, want: string) {
  return until(`health ${want}`, async () => (await engine.runtime.inspect(id)).health === want, 15_000);
}

async function runWith(command: string[], healthcheck: HealthCheck) {
  const c = await engine.runtime.create(config(command, { healthcheck }));
  await engine.runtime.start(c.id);
  return c.id;
}

describeRoot("agent supervisor (real containers)", () => {
  beforeAll(async () => {
    engine = await createTestEngine();
    const network = createNetworkManager({
      stateDir: engine.stateDir,
      log,
      bridgeName: engine.bridge,
      subnet: engine.subnet,
    });
    supervisor = startSupervisor({ runtime: engine.runtime, network, log, intervalMs: 100 });
  }, 60_000);
  afterAll(async () => {
    await supervisor?.stop();
    await engine?.cleanup();
  }, 60_000);

  it("runs exec health checks: starting, healthy, then unhealthy", async () => {
    const id = await runWith(["sh", "-c", "sleep 1; touch /tmp/ok; sleep 600"], {
      kind: "exec",
      command: ["CMD-SHELL", "test -e /tmp/ok"],
      ...quick,
    });
    expect((await engine.runtime.inspect(id)).health).toBe("starting");
    await health(id, "healthy");
    await engine.runtime.exec(
      id,
      { command: ["rm", "/tmp/ok"], tty: false },
      { stdout: process.stderr, stderr: process.stderr },
    );
    await health(id, "unhealthy");
    await engine.runtime.remove(id, { force: true });
  });

  it("runs HTTP and TCP health checks against the container's address", async () => {
    const http = await runWith(["sh", "-c", WEB], {
      kind: "http",
      url: "http://localhost:8080/index.html",
      ...quick,
    });
    const tcp = await runWith(["sh", "-c", WEB], { kind: "tcp", port: 8080, ...quick });
    const closed = await runWith(["sh", "-c", WEB], { kind: "tcp", port: 9, ...quick });
    await health(http, "healthy");
    await health(tcp, "healthy");
    await health(closed, "unhealthy");
    for (const id of [http, tcp, closed]) await engine.runtime.remove(id, { force: true });
  });

  it("at agent start, reaps a container that died unseen and restarts it per its policy", async () => {
    await supervisor.stop(); // no daemon is watching: that is the point
    // A runtime whose exit handler does nothing: as if the agent and its handler were gone.
    const images = createImageStore(engine.stateDir);
    const network = createNetworkManager({
      stateDir: engine.stateDir,
      log,
      bridgeName: engine.bridge,
      subnet: engine.subnet,
    });
    const blind = createRuncRuntime({
      stateDir: engine.stateDir,
      log,
      images,
      volumes: createVolumeStore(engine.stateDir),
      network,
      exitCommand: ["/bin/true"],
    });
    const c = await blind.create(config(["sleep", "600"], { restart: { name: "unless-stopped" } }));
    const started = await blind.start(c.id);
    process.kill(started.pid!, "SIGKILL");
    await until("the container's process to be gone", () => {
      try {
        process.kill(started.pid!, 0);
        return false;
      } catch {
        return true;
      }
    });
    expect((await blind.store.read(c.id)).status).toBe("running"); // nobody has looked yet
    const report = await adoptContainers(blind, network, log);
    expect(report.reaped).toContain(c.id);
    expect(report.restarted).toContain(c.id);
    const after = await blind.inspect(c.id);
    expect(after.status).toBe("running");
    expect(after.pid).not.toBe(started.pid);
    await blind.remove(c.id, { force: true });
  });
});
