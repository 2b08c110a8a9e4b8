import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { HealthCheck, HealthStatus } from "../types.ts";
import { type HealthProbes, type HealthResult, startHealthChecks } from "./runner.ts";

const check = (over: Partial<HealthCheck> = {}): HealthCheck => ({
  kind: "exec",
  command: ["true"],
  intervalMs: 1000,
  timeoutMs: 500,
  retries: 3,
  startPeriodMs: 0,
  ...over,
});

/** Exec probes that answer from a script of exit codes (the last one repeats). */
function scripted(codes: number[]): HealthProbes & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    exec: async (command) => {
      calls.push(command);
      return codes.length > 1 ? codes.shift()! : codes[0]!;
    },
    http: async () => 200,
    tcp: async () => {},
  };
}

let changes: [HealthStatus, HealthResult][];
const onChange = (status: HealthStatus, result: HealthResult) => changes.push([status, result]);

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z") });
  changes = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe("startHealthChecks", () => {
  it("is starting until the first success, probing one interval after the start", async () => {
    const probe = scripted([0]);
    const checker = startHealthChecks({ check: check(), probe, onChange });
    expect(checker.status).toBe("starting");
    await vi.advanceTimersByTimeAsync(999);
    expect(probe.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(probe.calls).toEqual([["true"]]);
    expect(checker.status).toBe("healthy");
    expect(changes.map(([s]) => s)).toEqual(["healthy"]);
    expect(changes[0]![1]).toMatchObject({ exitCode: 0, start: "2026-01-01T00:00:01.000Z" });
    checker.stop();
  });

  it("becomes unhealthy after `retries` consecutive failures, and healthy again on a success", async () => {
    const probe = scripted([1, 1, 0, 1, 1, 1, 0]);
    const checker = startHealthChecks({ check: check({ retries: 3 }), probe, onChange });
    await vi.advanceTimersByTimeAsync(2000);
    expect(checker).toMatchObject({ status: "starting", failingStreak: 2 });
    await vi.advanceTimersByTimeAsync(1000); // success resets the streak
    expect(checker).toMatchObject({ status: "healthy", failingStreak: 0 });
    await vi.advanceTimersByTimeAsync(2000);
    expect(checker).toMatchObject({ status: "healthy", failingStreak: 2 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(checker).toMatchObject({ status: "unhealthy", failingStreak: 3 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(checker.status).toBe("healthy");
    expect(changes.map(([s]) => s)).toEqual(["healthy", "unhealthy", "healthy"]);
    checker.stop();
  });

  it("does not count failures within the start period while starting", async () => {
    const probe = scripted([1]);
    const checker = startHealthChecks({ check: check({ retries: 1, startPeriodMs: 3000 }), probe, onChange });
    await vi.advanceTimersByTimeAsync(2000);
    expect(checker).toMatchObject({ status: "starting", failingStreak: 0 });
    expect(checker.results).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000); // probe at 3 s: the start period is over
    expect(checker).toMatchObject({ status: "unhealthy", failingStreak: 1 });
    checker.stop();
  });

  it("counts failures within the start period once the container has been healthy", async () => {
    const probe = scripted([0, 1]);
    const checker = startHealthChecks({
      check: check({ retries: 1, startPeriodMs: 60_000 }),
      probe,
      onChange,
    });
    await vi.advanceTimersByTimeAsync(2000);
    expect(checker.status).toBe("unhealthy");
    checker.stop();
  });

  it("bounds each probe by the timeout (exit -1) and keeps probing an interval later", async () => {
    let calls = 0;
    const probe: HealthProbes = {
      exec: () => {
        calls++;
        return new Promise(() => {}); // never answers
      },
      http: async () => 200,
      tcp: async () => {},
    };
    const checker = startHealthChecks({ check: check({ retries: 1, timeoutMs: 300 }), probe, onChange });
    await vi.advanceTimersByTimeAsync(1300);
    expect(checker.status).toBe("unhealthy");
    expect(checker.results[0]).toMatchObject({
      exitCode: -1,
      output: expect.stringContaining("timeout"),
      start: "2026-01-01T00:00:01.000Z",
      end: "2026-01-01T00:00:01.300Z",
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    checker.stop();
  });

  it("keeps the last five results and passes on exec output", async () => {
    let n = 0;
    const probe: HealthProbes = {
      exec: async () => ({ exitCode: 0, output: `run ${++n}` }),
      http: async () => 200,
      tcp: async () => {},
    };
    const checker = startHealthChecks({ check: check(), probe, onChange });
    await vi.advanceTimersByTimeAsync(7000);
    expect(checker.results.map((r) => r.output)).toEqual(["run 3", "run 4", "run 5", "run 6", "run 7"]);
    checker.stop();
  });

  it("stops probing after stop(), ignoring a probe in flight", async () => {
    let answer: ((code: number) => void) | undefined;
    const probe: HealthProbes = {
      exec: () => new Promise((resolve) => (answer = resolve)),
      http: async () => 200,
      tcp: async () => {},
    };
    const checker = startHealthChecks({ check: check({ timeoutMs: 10_000 }), probe, onChange });
    await vi.advanceTimersByTimeAsync(1000);
    checker.stop();
    answer!(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(checker).toMatchObject({ status: "starting", results: [] });
    expect(changes).toEqual([]);
  });

  it("judges HTTP by status (2xx/3xx healthy) against the container's address, and TCP by connecting", async () => {
    const urls: string[] = [];
    const targets: string[] = [];
    const codes = [302, 503];
    const probe: HealthProbes = {
      exec: async () => 0,
      http: async (url) => {
        urls.push(url);
        return codes.shift()!;
      },
      tcp: async (host, port) => {
        targets.push(`${host}:${port}`);
        throw new Error("connection refused");
      },
    };
    const http = startHealthChecks({
      check: check({ kind: "http", url: "http://localhost:8080/health", retries: 1 }),
      probe,
      onChange,
      address: "10.88.0.5",
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(http.status).toBe("healthy");
    await vi.advanceTimersByTimeAsync(1000);
    expect(http.status).toBe("unhealthy");
    expect(urls).toEqual(["http://10.88.0.5:8080/health", "http://10.88.0.5:8080/health"]);
    http.stop();
    const tcp = startHealthChecks({
      check: check({ kind: "tcp", port: 5432, retries: 1 }),
      probe,
      onChange,
      address: "10.88.0.6",
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(tcp.status).toBe("unhealthy");
    expect(tcp.results[0]).toMatchObject({ exitCode: 1, output: "connection refused" });
    expect(targets).toEqual(["10.88.0.6:5432"]);
    tcp.stop();
  });
});
