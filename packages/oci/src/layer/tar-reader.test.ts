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

/** Writes `bytes` into a header's field at `offset` (NUL-filled to `length`) and fixes the checksum. */
function patchField(tar: Buffer, header: number, offset: number, length: number, bytes: Buffer): void {
  tar.fill(0, header + offset, header + offset + length);
  bytes.copy(tar, header + offset);
  tar.fill(0x20, header + 148, header + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tar[header + i]!;
  tar.write(`${sum.toString(8).padStart(6, "0")}\0 `, header + 148, "ascii");
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

  describe("names that are not UTF-8", () => {
    // Node gives the file system a string name as UTF-8: Latin-1 "café" would be written as other
    // bytes than the layer holds, so it is refused by its bytes.
    const latin1 = Buffer.from("caf\xe9", "latin1");

    it("refuses a file name", async () => {
      const tar = buildTar([{ path: "cafe", body: "x" }]);
      patchField(tar, 0, 0, 100, latin1);
      await expect(headers(tar)).rejects.toThrow(/name "caf\uFFFD" is not UTF-8 \(bytes 636166e9\)/);
    });

    it("refuses a link target", async () => {
      const tar = buildTar([{ path: "link", type: "SymbolicLink", linkpath: "cafe" }]);
      patchField(tar, 0, 157, 100, latin1);
      await expect(headers(tar)).rejects.toThrow(/bytes 636166e9/);
    });

    it("refuses a PAX path", async () => {
      const tar = buildTar([{ path: `${"d".repeat(120)}cafe`, body: "x" }]);
      const record = tar.indexOf("path=");
      expect(record).toBeGreaterThan(0);
      tar[tar.indexOf("cafe", record) + 3] = 0xe9;
      await expect(headers(tar)).rejects.toThrow(/not UTF-8 \(bytes [0-9a-f]*636166e9\)/);
    });

    it("reads a UTF-8 PAX path whose ustar name is cut in the middle of a character", async () => {
      const long = "é".repeat(80);
      const tar = buildTar([{ path: long, type: "Directory" }]);
      const header = tar.length - 1024 - 512;
      patchField(tar, header, 0, 100, Buffer.from(long).subarray(0, 99));
      expect(Buffer.from(long).subarray(0, 99).toString("utf8")).toContain("\uFFFD");
      const [dir] = await headers(tar);
      expect(dir).toMatchObject({ path: long, type: "directory" });
    });
  });
});
