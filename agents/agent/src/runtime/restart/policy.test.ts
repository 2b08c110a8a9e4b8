import { describe, expect, it } from "vitest";
import type { RestartPolicy } from "../types.ts";
import { type ExitContext, nextBackoffAttempt, restartDelayMs, shouldRestart } from "./policy.ts";

const exit = (over: Partial<ExitContext> = {}): ExitContext => ({
  exitCode: 1,
  restartCount: 0,
  stoppedByUser: false,
  oomKilled: false,
  ...over,
});

describe("shouldRestart", () => {
  const no: RestartPolicy = { name: "no" };
  const always: RestartPolicy = { name: "always" };
  const unlessStopped: RestartPolicy = { name: "unless-stopped" };
  const onFailure: RestartPolicy = { name: "on-failure" };
  const onFailure2: RestartPolicy = { name: "on-failure", maxRetries: 2 };

  it.each([
    // policy, context, expected
    [no, exit(), false],
    [no, exit({ exitCode: 0 }), false],
    [always, exit({ exitCode: 0 }), true],
    [always, exit({ exitCode: 137 }), true],
    [unlessStopped, exit({ exitCode: 0 }), true],
    [onFailure, exit({ exitCode: 0 }), false],
    [onFailure, exit({ exitCode: 3 }), true],
    [onFailure, exit({ exitCode: 3, restartCount: 1000 }), true],
    [onFailure, exit({ exitCode: 0, oomKilled: true }), true],
    [onFailure2, exit({ restartCount: 0 }), true],
    [onFailure2, exit({ restartCount: 1 }), true],
    [onFailure2, exit({ restartCount: 2 }), false],
    [{ name: "on-failure", maxRetries: 0 } as RestartPolicy, exit({ restartCount: 5 }), true],
  ])("%j after %j → %s", (policy, context, expected) => {
    expect(shouldRestart(policy, context)).toBe(expected);
  });

  it("never restarts a container the user stopped, at its exit", () => {
    for (const policy of [no, always, unlessStopped, onFailure, onFailure2]) {
      expect(shouldRestart(policy, exit({ exitCode: 137, stoppedByUser: true })), policy.name).toBe(false);
    }
  });

  it("at agent start, restarts `always` even after a user's stop, but not `unless-stopped`", () => {
    const stopped = exit({ exitCode: 143, stoppedByUser: true, agentStart: true });
    expect(shouldRestart(always, stopped)).toBe(true);
    expect(shouldRestart(unlessStopped, stopped)).toBe(false);
    expect(shouldRestart(onFailure, stopped)).toBe(false);
    expect(shouldRestart(no, stopped)).toBe(false);
    const crashed = exit({ exitCode: 1, agentStart: true });
    expect(shouldRestart(unlessStopped, crashed)).toBe(true);
    expect(shouldRestart(onFailure, crashed)).toBe(true);
  });
});

describe("restart back-off", () => {
  it("starts at 100 ms and doubles up to a minute", () => {
    expect([0, 1, 2, 3, 9, 10, 11, 100].map(restartDelayMs)).toEqual([
      100, 200, 400, 800, 51_200, 60_000, 60_000, 60_000,
    ]);
    expect(restartDelayMs(-1)).toBe(100);
  });

  it("starts over after a run of at least 10 s", () => {
    expect(nextBackoffAttempt(null, 0)).toBe(0);
    expect(nextBackoffAttempt(0, 50)).toBe(1);
    expect(nextBackoffAttempt(4, 9_999)).toBe(5);
    expect(nextBackoffAttempt(4, 10_000)).toBe(0);
  });
});
