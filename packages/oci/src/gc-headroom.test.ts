import v8 from "node:v8";
import { afterEach, describe, expect, it, vi } from "vitest";
import { STREAMING_HEAP_GROWING_PERCENT, withGcHeadroom } from "./gc-headroom.ts";

const RAISED = `--heap-growing-percent=${STREAMING_HEAP_GROWING_PERCENT}`;
const DEFAULT = "--heap-growing-percent=0";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("withGcHeadroom", () => {
  it("raises V8's heap growing factor for the first of overlapping calls and restores it after the last", async () => {
    const flags = vi.spyOn(v8, "setFlagsFromString");
    let releaseFirst!: () => void;
    const first = withGcHeadroom(() => new Promise<string>((resolve) => (releaseFirst = () => resolve("a"))));
    expect(flags.mock.calls).toEqual([[RAISED]]);
    const second = await withGcHeadroom(async () => "b");
    // The second call ended while the first still runs: the factor stays raised.
    expect(second).toBe("b");
    expect(flags.mock.calls).toEqual([[RAISED]]);
    releaseFirst();
    expect(await first).toBe("a");
    expect(flags.mock.calls).toEqual([[RAISED], [DEFAULT]]);
  });

  it("restores the factor when the work fails, and passes the failure on", async () => {
    const flags = vi.spyOn(v8, "setFlagsFromString");
    await expect(
      withGcHeadroom(async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(flags.mock.calls).toEqual([[RAISED], [DEFAULT]]);
  });

  it("leaves the factor alone when it was chosen on Node's command line", async () => {
    const flags = vi.spyOn(v8, "setFlagsFromString");
    process.execArgv.push("--heap-growing-percent=50");
    try {
      expect(await withGcHeadroom(async () => 7)).toBe(7);
    } finally {
      process.execArgv.pop();
    }
    expect(flags).not.toHaveBeenCalled();
  });
});
