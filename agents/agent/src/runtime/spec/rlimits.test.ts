import { describe, expect, it } from "vitest";
import { applySpecOpts } from "./build.ts";
import { clampRlimit, DEFAULT_RLIMITS, parseProcLimits, readHostRlimits, withRlimits } from "./rlimits.ts";

const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max stack size            8388608              unlimited            bytes     
Max processes             96364                96364                processes 
Max open files            20000                20000                files     
Max locked memory         8388608              8388608              bytes     
Max realtime timeout      unlimited            unlimited            us        
`;

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return "no error";
};

describe("rlimits", () => {
  const host = parseProcLimits(PROC_LIMITS);

  it("parses /proc/<pid>/limits", () => {
    expect(host.get("RLIMIT_NOFILE")).toEqual({ soft: 20000, hard: 20000 });
    expect(host.get("RLIMIT_STACK")).toEqual({ soft: 8388608, hard: null });
    expect(host.get("RLIMIT_CPU")).toEqual({ soft: null, hard: null });
    expect(host.get("RLIMIT_RTTIME")).toEqual({ soft: null, hard: null });
    expect(host.get("RLIMIT_NPROC")).toEqual({ soft: 96364, hard: 96364 });
  });

  it("clamps a limit above the host's hard limit (podman's 1048576 files fails here)", () => {
    expect(clampRlimit({ type: "RLIMIT_NOFILE", soft: 1048576, hard: 1048576 }, host)).toEqual({
      type: "RLIMIT_NOFILE",
      soft: 20000,
      hard: 20000,
    });
    expect(clampRlimit({ type: "RLIMIT_NOFILE", soft: 1024, hard: 524288 }, host)).toEqual({
      type: "RLIMIT_NOFILE",
      soft: 1024,
      hard: 20000,
    });
  });

  it("keeps limits under the host's and those the host leaves unlimited", () => {
    expect(clampRlimit({ type: "RLIMIT_NOFILE", soft: 512, hard: 4096 }, host)).toMatchObject({
      soft: 512,
      hard: 4096,
    });
    expect(clampRlimit({ type: "RLIMIT_CORE", soft: 0, hard: 1 << 30 }, host)).toMatchObject({
      soft: 0,
      hard: 1 << 30,
    });
  });

  it("refuses unknown types and soft above hard", () => {
    expect(code(() => clampRlimit({ type: "RLIMIT_BOGUS", soft: 1, hard: 1 }, host))).toBe("InvalidArgument");
    expect(code(() => clampRlimit({ type: "RLIMIT_NOFILE", soft: 10, hard: 5 }, host))).toBe(
      "InvalidArgument",
    );
    expect(code(() => clampRlimit({ type: "RLIMIT_NOFILE", soft: -1, hard: 5 }, host))).toBe(
      "InvalidArgument",
    );
  });

  it("withRlimits sets the clamped limits, a later one replacing an earlier of the same type", () => {
    const spec = applySpecOpts([
      withRlimits(DEFAULT_RLIMITS, host),
      withRlimits([{ type: "RLIMIT_NOFILE", soft: 100, hard: 200 }], host),
      withRlimits([{ type: "RLIMIT_NPROC", soft: 1e6, hard: 1e6 }], host),
    ]);
    expect(spec.process.rlimits).toEqual([
      { type: "RLIMIT_NOFILE", soft: 100, hard: 200 },
      { type: "RLIMIT_NPROC", soft: 96364, hard: 96364 },
    ]);
  });

  it("reads the agent's own limits", async () => {
    const own = await readHostRlimits();
    expect(own.get("RLIMIT_NOFILE")?.hard).toBeGreaterThan(0);
  });
});
