import { describe, expect, it } from "vitest";
import { captureStream, collectLogs, contractConfig, errorCode } from "../contract/helpers.ts";
import type { ContainerConfig, LogLine } from "../types.ts";
import { createManualClock } from "./clock.ts";
import { createSimulatedRuntime, type SimulatedRuntimeOptions } from "./runtime.ts";

function setup(options: SimulatedRuntimeOptions = {}) {
  const clock = createManualClock();
  const rt = createSimulatedRuntime({ clock, ...options });
  const run = async (over: Partial<ContainerConfig>) =>
    rt.start((await rt.create(contractConfig("busybox", over))).id);
  return { clock, rt, run };
}
const sh = (script: string) => ["sh", "-c", script];

describe("simulated runtime on a manual clock", () => {
  it("runs `sleep N` for N seconds, and exits at once for `true`", async () => {
    const { clock, rt, run } = setup();
    const sleeper = await run({ command: ["sleep", "5"] });
    await clock.advance(4999);
    expect((await rt.inspect(sleeper.id)).status).toBe("running");
    await clock.advance(1);
    expect(await rt.inspect(sleeper.id)).toMatchObject({
      status: "stopped",
      exitCode: 0,
      finishedAt: "2026-01-01T00:00:05.000Z",
    });
    const quick = await run({ command: ["true"] });
    expect(quick.status).toBe("running");
    await clock.advance(0);
    expect((await rt.inspect(quick.id)).status).toBe("stopped");
  });

  it("shows output as it is written and drops what a killed process never wrote", async () => {
    const { clock, rt, run } = setup();
    const info = await run({ command: sh("echo a; sleep 2; echo b") });
    expect((await collectLogs(rt, info.id)).map((l) => l.line)).toEqual(["a"]);
    await clock.advance(1000);
    await rt.kill(info.id);
    await clock.advance(5000);
    expect((await collectLogs(rt, info.id)).map((l) => l.line)).toEqual(["a"]);
    const since = await run({ command: sh("echo x; sleep 1; echo y; sleep 1; echo z") });
    await clock.advance(3000);
    const lines = await collectLogs(rt, since.id, { since: new Date(clock.now() - 2000) });
    expect(lines.map((l) => l.line)).toEqual(["y", "z"]);
  });

  it("follows output on the clock and ends when the container exits", async () => {
    const { clock, rt, run } = setup();
    const info = await run({ command: sh("echo a; sleep 2; echo b; sleep 1") });
    const seen: LogLine[] = [];
    const follow = (async () => {
      for await (const line of rt.logs(info.id, { follow: true })) seen.push(line);
    })();
    await clock.advance(0);
    expect(seen.map((l) => l.line)).toEqual(["a"]);
    await clock.advance(2000);
    expect(seen.map((l) => l.line)).toEqual(["a", "b"]);
    expect(seen[1]!.time).toBe("2026-01-01T00:00:02.000Z");
    await clock.advance(1000);
    await follow;
  });

  it("applies `always` with Docker's back-off, and a user's stop cancels a pending restart", async () => {
    const { clock, rt, run } = setup();
    const info = await run({ command: ["false"], restart: { name: "always" } });
    const starts: number[] = [];
    for (const delay of [0, 100, 200, 400]) {
      await clock.advance(delay);
      const now = await rt.inspect(info.id);
      starts.push(now.restartCount);
    }
    expect(starts).toEqual([0, 1, 2, 3]);
    expect((await rt.inspect(info.id)).status).toBe("stopped"); // waiting 800 ms for the next start
    await rt.stop(info.id);
    await clock.advance(60_000);
    expect(await rt.inspect(info.id)).toMatchObject({ status: "stopped", restartCount: 3 });
    expect(await rt.wait(info.id)).toBe(1);
  });

  it("does not restart unless-stopped/always containers the user stopped or killed", async () => {
    const { clock, rt, run } = setup();
    for (const restart of [{ name: "always" }, { name: "unless-stopped" }] as const) {
      const stopped = await run({ restart });
      await rt.stop(stopped.id);
      const killed = await run({ restart });
      await rt.kill(killed.id, "SIGTERM");
      await clock.advance(10_000);
      expect((await rt.inspect(stopped.id)).status).toBe("stopped");
      expect(await rt.inspect(killed.id)).toMatchObject({
        status: "stopped",
        exitCode: 143,
        restartCount: 0,
      });
    }
  });

  it("wait on a created container resolves once it has run; removal before it runs rejects NotFound", async () => {
    const { clock, rt } = setup();
    const a = await rt.create(contractConfig("busybox", { command: sh("exit 7") }));
    const waiting = rt.wait(a.id);
    await rt.start(a.id);
    await clock.advance(0);
    expect(await waiting).toBe(7);
    const b = await rt.create(contractConfig("busybox"));
    const orphan = rt.wait(b.id);
    await rt.remove(b.id);
    expect(await errorCode(orphan)).toBe("NotFound");
  });

  it("resolves unique id prefixes and refuses ambiguous ones", async () => {
    const ids = ["aa11".padEnd(64, "0"), "aa22".padEnd(64, "0")];
    const { rt } = setup({ randomId: () => ids.shift()! });
    const first = await rt.create(contractConfig("busybox"));
    await rt.create(contractConfig("busybox"));
    expect((await rt.inspect("aa1")).id).toBe(first.id);
    expect(await errorCode(rt.inspect("aa"))).toBe("InvalidArgument");
    expect((await rt.inspect(`/${first.name}`)).id).toBe(first.id);
  });

  it("validates names, autoRemove with a restart policy, and images", async () => {
    const { rt } = setup({ images: { "busybox:1": { command: ["sh", "-c", "echo from image"] } } });
    expect(await errorCode(rt.create(contractConfig("busybox:1", { name: "bad name" })))).toBe(
      "InvalidArgument",
    );
    expect(
      await errorCode(
        rt.create(contractConfig("busybox:1", { autoRemove: true, restart: { name: "always" } })),
      ),
    ).toBe("InvalidArgument");
    expect(await errorCode(rt.create(contractConfig("nginx")))).toBe("NotFound");
    const info = await rt.create(contractConfig("busybox:1", { command: undefined, name: "" }));
    expect(info.name).toMatch(/^sim-[0-9a-f]{12}$/);
    await rt.start(info.id);
    expect((await collectLogs(rt, info.id)).map((l) => l.line)).toEqual(["from image"]);
  });

  it("turns health checks healthy or unhealthy without timers", async () => {
    const { clock, rt, run } = setup();
    const check = { kind: "exec" as const, intervalMs: 1000, timeoutMs: 500, retries: 3, startPeriodMs: 0 };
    const good = await run({ healthcheck: { ...check, command: ["true"] } });
    const bad = await run({ healthcheck: { ...check, command: ["false"] } });
    const plain = await run({});
    expect(good.health).toBe("starting");
    expect(plain.health).toBe("none");
    expect(clock.pending).toBe(3); // the three `sleep 1000` exits: health needs none
    await clock.advance(1000);
    expect((await rt.inspect(good.id)).health).toBe("healthy");
    expect((await rt.inspect(bad.id)).health).toBe("starting");
    await clock.advance(2000);
    expect((await rt.inspect(bad.id)).health).toBe("unhealthy");
  });

  it("gives synthetic stats that grow while running", async () => {
    const { clock, rt, run } = setup();
    const info = await run({ resources: { memoryBytes: 64 * 1024 * 1024 } });
    await clock.advance(1000);
    const a = await rt.stats(info.id);
    await clock.advance(1000);
    const b = await rt.stats(info.id);
    expect(b.cpuUsageNs).toBeGreaterThan(a.cpuUsageNs);
    expect(a).toMatchObject({ pids: 1, memoryLimitBytes: 64 * 1024 * 1024 });
    await rt.stop(info.id);
    expect(await rt.stats(info.id)).toMatchObject({ pids: 0, memoryBytes: 0, cpuUsageNs: b.cpuUsageNs });
  });

  it("runs exec on the clock; a never-ending exec ends with the container", async () => {
    const { clock, rt, run } = setup();
    const info = await run({});
    const out = captureStream();
    const stdio = { stdout: out, stderr: captureStream() };
    const slow = rt.exec(info.id, { command: sh("echo a; sleep 2; echo b; exit 5"), tty: false }, stdio);
    await clock.advance(2000);
    expect(await slow).toBe(5);
    expect(out.text()).toBe("a\nb\n");
    const endless = rt.exec(info.id, { command: sh("while true; do sleep 1; done"), tty: false }, stdio);
    await clock.advance(10);
    await rt.stop(info.id);
    expect(await endless).toBe(137);
  });

  it("holds thousands of long-running containers without timers", async () => {
    const clock = createManualClock();
    const hosts = Array.from({ length: 200 }, () => createSimulatedRuntime({ clock }));
    for (const rt of hosts) {
      for (let i = 0; i < 10; i++) {
        const info = await rt.create(contractConfig("web", { command: ["httpd", "-f"], network: "bridge" }));
        await rt.start(info.id);
      }
    }
    expect(hosts.reduce((n, rt) => n + rt.size, 0)).toBe(2000);
    expect(clock.pending).toBe(0);
    const listed = await hosts[0]!.list();
    expect(listed).toHaveLength(10);
    expect(new Set(listed.map((c) => c.ipAddress)).size).toBe(10);
  });
});
