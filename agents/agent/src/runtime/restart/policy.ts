/**
 * Restart policies with Docker's semantics, as pure functions.
 *
 * When a container exits:
 * - `no` never restarts it;
 * - `on-failure[:max]` restarts it after a non-zero exit (or an OOM kill),
 *   while fewer than `max` restarts were made (no limit without `max`);
 * - `always` and `unless-stopped` always restart it;
 * - none restarts a container the user stopped (stop, kill): that cancels
 *   the policy until the next start.
 * When the agent starts and finds a container that is not running (it exited
 * while the agent was down, or the host rebooted): `always` restarts it even
 * if the user had stopped it; `unless-stopped` and `on-failure` only if the
 * user had not (Docker restarts on-failure containers here on a non-zero
 * exit whatever stopped them; a user's stop wins here instead).
 */
import type { RestartPolicy } from "../types.ts";

export interface ExitContext {
  exitCode: number;
  /** Restarts made by the policy so far. */
  restartCount: number;
  /** The user stopped or killed it (and has not started it since). */
  stoppedByUser: boolean;
  oomKilled: boolean;
  /** Deciding at agent start rather than at the exit itself. */
  agentStart?: boolean;
}

export function shouldRestart(policy: RestartPolicy, context: ExitContext): boolean {
  const failed = context.exitCode !== 0 || context.oomKilled;
  switch (policy.name) {
    case "no":
      return false;
    case "always":
      return context.agentStart === true || !context.stoppedByUser;
    case "unless-stopped":
      return !context.stoppedByUser;
    case "on-failure": {
      const max = policy.maxRetries ?? 0;
      const underMax = max <= 0 || context.restartCount < max;
      return failed && underMax && !context.stoppedByUser;
    }
  }
}

/** Docker's restart back-off: 100 ms, doubling per quick restart, at most a minute. */
export const RESTART_BACKOFF = { initialMs: 100, maxMs: 60_000, resetAfterRunMs: 10_000 } as const;

/**
 * The delay before restart number `attempt` (0-based) of a run of quick
 * exits: 100, 200, 400 … ms, capped at 60 s.
 */
export function restartDelayMs(attempt: number): number {
  const n = Math.max(0, Math.min(Math.floor(attempt), 30));
  return Math.min(RESTART_BACKOFF.initialMs * 2 ** n, RESTART_BACKOFF.maxMs);
}

/**
 * Which back-off attempt the next restart is: the run of quick exits starts
 * over when the container ran at least 10 s (Docker resets its timeout then).
 */
export function nextBackoffAttempt(previousAttempt: number | null, ranMs: number): number {
  if (previousAttempt === null || ranMs >= RESTART_BACKOFF.resetAfterRunMs) return 0;
  return previousAttempt + 1;
}
