import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ByteSource } from "./byte-source.ts";

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("ByteSource", () => {
  it("reads exact counts within and across chunks (zero bytes too) and hashes everything", async () => {
    const chunks = [Buffer.from("abcdef"), Buffer.from("gh"), Buffer.from("ijklmnop")];
    const source = new ByteSource(Readable.from(chunks), 100);
    expect((await source.read(0))?.length).toBe(0);
    expect((await source.read(3))?.toString()).toBe("abc");
    expect((await source.read(3))?.toString()).toBe("def");
    expect((await source.read(0))?.length).toBe(0);
    expect((await source.read(5))?.toString()).toBe("ghijk");
    const rest: string[] = [];
    for await (const piece of source.chunks(4)) rest.push(piece.toString());
    expect(rest.join("")).toBe("lmno");
    await source.finish();
    expect(source.digest()).toBe(sha256(Buffer.concat(chunks)));
    expect(source.total).toBe(16);
  });

  it("made with digest: false, reads the same and has no digest to give", async () => {
    const source = new ByteSource(Readable.from([Buffer.from("abc"), Buffer.from("def")]), 100, {
      digest: false,
    });
    expect((await source.read(4))?.toString()).toBe("abcd");
    await source.finish();
    expect(source.total).toBe(6);
    expect(() => source.digest()).toThrow("digest: false");
  });

  it("refuses a stream over its limit and a truncated read", async () => {
    await expect(new ByteSource(Readable.from([Buffer.alloc(10)]), 5).read(1)).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    await expect(new ByteSource(Readable.from([Buffer.alloc(3)]), 5).read(4)).rejects.toMatchObject({
      code: "InvalidArgument",
    });
  });
});
