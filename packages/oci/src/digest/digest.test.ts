import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { OciError } from "../errors.ts";
import { createDigester, digestOf, isDigest, parseDigest, verifyDigest } from "./digest.ts";

const EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

describe("parseDigest", () => {
  it("parses sha256 and sha512", () => {
    expect(parseDigest(EMPTY)).toEqual({ algorithm: "sha256", hex: EMPTY.slice(7) });
    const d512 = `sha512:${"0".repeat(128)}`;
    expect(parseDigest(d512).algorithm).toBe("sha512");
  });

  it.each([
    ["sha256", /algorithm:hex/],
    ["sha256:", /algorithm:hex/],
    [`sha256:${"a".repeat(63)}`, /64 lowercase hex/],
    [`sha256:${"A".repeat(64)}`, /64 lowercase hex/],
    [`sha256:${"g".repeat(64)}`, /64 lowercase hex/],
    [`sha512:${"a".repeat(64)}`, /128 lowercase hex/],
    [`md5:${"a".repeat(32)}`, /unsupported algorithm/],
    [`SHA256:${"a".repeat(64)}`, /algorithm:hex/],
  ])("refuses %s", (value, why) => {
    expect(() => parseDigest(value)).toThrow(why);
    expect(isDigest(value)).toBe(false);
  });
});

describe("Digester and verifyDigest", () => {
  const data = Buffer.from("hello, berth");
  const expected = digestOf(data);

  it("digestOf matches node's sha256", () => {
    expect(expected).toBe(`sha256:${createHash("sha256").update(data).digest("hex")}`);
    expect(digestOf("")).toBe(EMPTY);
  });

  it("hashes and counts a stream passing through", async () => {
    const digester = createDigester();
    expect(() => digester.digest()).toThrow(OciError);
    const out: Buffer[] = [];
    await pipeline(Readable.from([data.subarray(0, 5), data.subarray(5)]), digester, async (src) => {
      for await (const chunk of src) out.push(chunk);
    });
    expect(digester.digest()).toBe(expected);
    expect(digester.bytes).toBe(data.length);
    expect(Buffer.concat(out)).toEqual(data);
  });

  it("resolves when the digest matches", async () => {
    await expect(verifyDigest(Readable.from([data]), expected)).resolves.toEqual({
      digest: expected,
      bytes: data.length,
    });
  });

  it("rejects a mismatch with InvalidArgument", async () => {
    const err = await verifyDigest(Readable.from([Buffer.from("tampered")]), expected).catch((e) => e);
    expect(err).toBeInstanceOf(OciError);
    expect(err.code).toBe("InvalidArgument");
  });

  it("rejects a wrong size or too many bytes", async () => {
    const wrongSize = await verifyDigest(Readable.from([data]), expected, { expectedSize: 3 }).catch(
      (e) => e,
    );
    expect(wrongSize.code).toBe("InvalidArgument");
    const tooBig = await verifyDigest(Readable.from([data]), expected, { maxBytes: 3 }).catch((e) => e);
    expect(tooBig.code).toBe("InvalidArgument");
  });

  it("verifies sha512", async () => {
    const d = digestOf(data, "sha512");
    await expect(verifyDigest(Readable.from([data]), d)).resolves.toMatchObject({ digest: d });
  });
});
