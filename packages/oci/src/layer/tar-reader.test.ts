import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ByteSource } from "./byte-source.ts";
import { buildTar } from "./tar-fixture.ts";
import { parsePax, readTar, type TarHeader } from "./tar-reader.ts";

async function headers(tar: Buffer): Promise<TarHeader[]> {
  const source = new ByteSource(Readable.from([tar]), Number.MAX_SAFE_INTEGER);
  const out: TarHeader[] = [];
  for await (const h of readTar(source)) {
    out.push(h);
    if (h.type === "file") await source.skip(h.size);
  }
  return out;
}

describe("readTar", () => {
  it("reads ustar fields, PAX long paths and xattrs", async () => {
    const long = `${"p".repeat(150)}/${"q".repeat(100)}`;
    const tar = buildTar([
      { path: "f", body: "abc", mode: 0o640, uid: 7, gid: 8, xattrs: { "user.k": "v=w" } },
      { path: long, type: "SymbolicLink", linkpath: "f" },
    ]);
    const [f, link] = await headers(tar);
    expect(f).toMatchObject({ path: "f", type: "file", size: 3, mode: 0o640, uid: 7, gid: 8 });
    expect(f!.xattrs["user.k"]?.toString()).toBe("v=w");
    expect(link).toMatchObject({ path: long, type: "symlink", linkpath: "f" });
  });

  it("reads GNU base-256 numbers", async () => {
    const tar = buildTar([{ path: "big-uid", body: "" }]);
    tar.fill(0, 108, 116);
    tar[108] = 0x80;
    tar.writeUInt32BE(3_000_000_000, 112);
    tar.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += tar[i]!;
    tar.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    const [h] = await headers(tar);
    expect(h!.uid).toBe(3_000_000_000);
  });

  it("refuses malformed PAX records", () => {
    expect(() => parsePax(Buffer.from("99 path=x\n"))).toThrow(/malformed/);
    expect(() => parsePax(Buffer.from("8 nokey\n"))).toThrow(/malformed/);
    expect(parsePax(Buffer.from("11 path=ab\n")).get("path")?.toString()).toBe("ab");
  });
});
