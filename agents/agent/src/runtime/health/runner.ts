/**
 * A container's health checks with Docker's semantics: the status is
 * "starting" until the first success; a failure while still starting and
 * within the start period does not count; `retries` consecutive failures
 * make it "unhealthy"; any success makes it "healthy". The first probe runs
 * one interval after the start, and each probe one interval after the
 * previous one ended; each is bounded by the timeout.
 */
import type { HealthCheck, HealthStatus } from "../types.ts";
import { probeUrl } from "./command.ts";

export interface ProbeOutcome {
  exitCode: number;
  output: string;
}

export interface HealthProbes {
  /** Run `command` in the container; its exit code (and output, when known). */
  exec(command: string[], timeoutMs: number): Promise<number | ProbeOutcome>;
  /** The HTTP status of a GET of `url`. */
  http(url: string, timeoutMs: number): Promise<number>;
  /** Resolves when a TCP connection succeeds. */
  tcp(host: string, port: number, timeoutMs: number): Promise<void>;
}

export interface HealthResult {
  start: string;
  end: string;
  /** 0 healthy, 1 unhealthy, -1 the probe timed out or could not run (as Docker records it). */
  exitCode: number;
  output: string;
}

export interface StartHealthChecksOptions {
  check: HealthCheck;
  probe: HealthProbes;
  /** Called when the status changes, with the result that changed it. */
  onChange(status: HealthStatus, lastResult: HealthResult): void;
  /** The container's address for tcp and http probes (default 127.0.0.1). */
  address?: string;
  /** When the container started, in ms since the epoch (default: now). */
  startedAtMs?: number;
}

export interface HealthChecker {
  readonly status: HealthStatus;
  readonly failingStreak: number;
  /** The last MAX_HEALTH_RESULTS results, oldest first. */
  readonly results: readonly HealthResult[];
  stop(): void;
}

export const MAX_HEALTH_RESULTS = 5;
export const MAX_HEALTH_OUTPUT_CHARS = 4096;

export function startHealthChecks(options: StartHealthChecksOptions): HealthChecker {
  const { check } = options;
  const startedAtMs = options.startedAtMs ?? Date.now();
  const results: HealthResult[] = [];
  let status: HealthStatus = "starting";
  let failingStreak = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const record = (result: HealthResult, startMs: number) => {
    results.push(result);
    if (results.length > MAX_HEALTH_RESULTS) results.shift();
    const before = status;
    if (result.exitCode === 0) {
      failingStreak = 0;
      status = "healthy";
    } else if (!(status === "starting" && startMs - startedAtMs < check.startPeriodMs)) {
      failingStreak++;
      if (failingStreak >= Math.max(1, check.retries)) status = "unhealthy";
    }
    if (status !== before) options.onChange(status, result);
  };

  const tick = async () => {
    const startMs = Date.now();
    const outcome = await runProbe(options, check);
    if (stopped) return;
    const result = { start: new Date(startMs).toISOString(), end: new Date().toISOString(), ...outcome };
    record(result, startMs);
    schedule();
  };
  const schedule = () => {
    timer = setTimeout(() => void tick(), Math.max(1, check.intervalMs));
  };
  schedule();

  return {
    get status() {
      return status;
    },
    get failingStreak() {
      return failingStreak;
    },
    get results() {
      return [...results];
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** One probe, bounded by the timeout even when the probe itself ignores it. */
async function runProbe(options: StartHealthChecksOptions, check: HealthCheck): Promise<ProbeOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ exitCode: -1, output: `Health check exceeded timeout (${check.timeoutMs} ms)` }),
      check.timeoutMs,
    );
  });
  const probe = probeOnce(options, check).catch((err: unknown) => ({
    exitCode: check.kind === "exec" ? -1 : 1,
    output: err instanceof Error ? err.message : String(err),
  }));
  try {
    const outcome = await Promise.race([probe, timeout]);
    return { exitCode: outcome.exitCode, output: outcome.output.slice(0, MAX_HEALTH_OUTPUT_CHARS) };
  } finally {
    clearTimeout(timer);
  }
}

async function probeOnce(options: StartHealthChecksOptions, check: HealthCheck): Promise<ProbeOutcome> {
  const address = options.address ?? "127.0.0.1";
  switch (check.kind) {
    case "exec": {
      if (!check.command?.length) throw new Error("exec health check without a command");
      const result = await options.probe.exec(check.command, check.timeoutMs);
      return typeof result === "number" ? { exitCode: result, output: "" } : result;
    }
    case "http": {
      if (!check.url) throw new Error("http health check without a url");
      const url = probeUrl(check.url, address, check.port);
      const code = await options.probe.http(url, check.timeoutMs);
      return { exitCode: code >= 200 && code < 400 ? 0 : 1, output: `GET ${url}: HTTP ${code}` };
    }
    case "tcp": {
      if (!check.port) throw new Error("tcp health check without a port");
      await options.probe.tcp(address, check.port, check.timeoutMs);
      return { exitCode: 0, output: `connected to ${address}:${check.port}` };
    }
  }
}
