import { randomBytes } from "node:crypto";
import pino from "pino";
import { inject } from "vitest";
import { type ControlPlaneOptions, type RunningControlPlane, startControlPlane } from "./control-plane.ts";

/**
 * A real control plane for tests, without Next.js pages: the run's Postgres,
 * a free port on loopback, a quiet log, short heartbeats (TTL 3 s). Each
 * leads a leadership of its own (tests share one database), unless told
 * `leadership`.
 */
export function startTestControlPlane(over: Partial<ControlPlaneOptions> = {}): Promise<RunningControlPlane> {
  return startControlPlane({
    databaseUrl: inject("databaseUrl"),
    log: pino({ level: "silent" }),
    version: "test",
    port: 0,
    host: "127.0.0.1",
    hostTtlMs: 3000,
    heartbeatIntervalMs: 500,
    leadership: `test-${randomBytes(6).toString("hex")}`,
    leaderRetryMs: 250,
    ...over,
  });
}
