import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { unpackLayer } from "./unpack.ts";

describe("a layer stream that fails midway", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("rejects the unpack with the input's error and raises nothing uncaught (gzip)", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      const gz = gzipSync(Buffer.alloc(64 * 1024, 7));
      async function* failing() {
        yield gz.subarray(0, 1024);
        throw new Error("connection reset");
      }
      const dest = await mkdtemp(join(tmpdir(), "berth-oci-fail-"));
      dirs.push(dest);
      await expect(unpackLayer(failing(), join(dest, "root"), { whiteouts: "apply" })).rejects.toThrow(
        /connection reset|unexpected end|tar/i,
      );
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});
