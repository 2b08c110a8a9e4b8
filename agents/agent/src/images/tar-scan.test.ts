import { describe, expect, it } from "vitest";
import { type FakeEntry, makeTar } from "./__fixtures__/tar-writer.ts";
import { TarScanner } from "./tar-scan.ts";

function scan(archive: Buffer, chunkSize = archive.length): TarScanner {
  const scanner = new TarScanner();
  for (let at = 0; at < archive.length; at += chunkSize) scanner.push(archive.subarray(at, at + chunkSize));
  scanner.finish();
  return scanner;
}

function refusal(entries: FakeEntry[]): string {
  try {
    scan(makeTar(entries));
  } catch (err) {
    const { code, message } = err as { code: string; message: string };
    return `${code}: ${message}`;
  }
  return "accepted";
}

const ok: FakeEntry[] = [
  { name: "./", type: "5" },
  { name: "./bin/", type: "5" },
  { name: "./bin/busybox", content: "ELF..." },
  { name: "./bin/sh", type: "2", linkname: "/bin/busybox" },
  { name: "./bin/ash", type: "1", linkname: "./bin/busybox" },
  { name: "./lib", type: "2", linkname: "usr/lib" },
  { name: "./usr/lib/x/up", type: "2", linkname: "../../../bin" },
  { name: "./run/fifo", type: "6" },
];

describe("TarScanner", () => {
  it("accepts an honest archive, in any chunking, and sums file sizes", () => {
    for (const chunk of [1, 7, 512, 100_000]) {
      const scanner = scan(makeTar(ok), chunk);
      expect(scanner.entries).toBe(ok.length);
      expect(scanner.size).toBe(6);
    }
  });

  it("reads PAX long names and judges them", () => {
    const long = `./${"d".repeat(150)}/file`;
    expect(scan(makeTar([{ name: "short", pax: { path: long }, content: "x" }])).entries).toBe(1);
    expect(refusal([{ name: "innocent", pax: { path: "../../etc/passwd" }, content: "x" }])).toMatch(
      /InvalidArgument: unsafe tar entry "\.\.\/\.\.\/etc\/passwd"/,
    );
  });

  it("refuses absolute paths", () => {
    expect(refusal([{ name: "/etc/passwd", content: "root::0:0" }])).toMatch(
      /"\/etc\/passwd": absolute path/,
    );
  });

  it('refuses ".." anywhere in a path', () => {
    expect(refusal([{ name: "a/../../escape", content: "x" }])).toMatch(/"a\/\.\.\/\.\.\/escape".*"\.\."/);
    expect(refusal([{ name: "ok/..", type: "5" }])).toMatch(/InvalidArgument/);
  });

  it("refuses a file written through a symlink of the archive", () => {
    expect(
      refusal([
        { name: "etc", type: "2", linkname: "/etc" },
        { name: "etc/cron.d/evil", content: "* * * * * root sh" },
      ]),
    ).toMatch(/"etc\/cron\.d\/evil": goes through the symlink "etc"/);
    expect(
      refusal([
        { name: "a/b", type: "2", linkname: "." },
        { name: "a/b/c", type: "5" },
      ]),
    ).toMatch(/goes through the symlink "a\/b"/);
  });

  it("refuses relative symlinks that climb out of the root", () => {
    expect(refusal([{ name: "up", type: "2", linkname: "../../../etc" }])).toMatch(
      /"up": symlink.*escapes the root/,
    );
    expect(refusal([{ name: "a/b/up", type: "2", linkname: "../../../x" }])).toMatch(/escapes the root/);
  });

  it("refuses replacing a symlink (tar would follow it to set a directory's owner and mode)", () => {
    expect(
      refusal([
        { name: "etc", type: "2", linkname: "/etc" },
        { name: "etc", type: "5" },
      ]),
    ).toMatch(/"etc": replaces a symlink/);
  });

  it("refuses hard links that leave the root or go through a symlink", () => {
    expect(refusal([{ name: "shadow", type: "1", linkname: "/etc/shadow" }])).toMatch(/absolute path/);
    expect(refusal([{ name: "shadow", type: "1", linkname: "../../etc/shadow" }])).toMatch(/"\.\."/);
    expect(
      refusal([
        { name: "etc", type: "2", linkname: "/etc" },
        { name: "shadow", type: "1", linkname: "etc/shadow" },
      ]),
    ).toMatch(/link target.*goes through the symlink "etc"/);
  });

  it("refuses device files", () => {
    expect(refusal([{ name: "dev/sda", type: "4", devmajor: 8, devminor: 0 }])).toMatch(
      /"dev\/sda": device file/,
    );
    expect(refusal([{ name: "mem", type: "3", devmajor: 1, devminor: 1 }])).toMatch(/"mem": device file/);
  });

  it("refuses what is not a tar archive, and truncated ones", () => {
    expect(() => scan(Buffer.alloc(512, 0x41))).toThrow(/not a tar archive/);
    const archive = makeTar([{ name: "file", content: "x".repeat(2000) }]);
    expect(() => scan(archive.subarray(0, 1024))).toThrow(/truncated/);
    expect(() => scan(Buffer.alloc(1024))).toThrow(/truncated or empty/);
  });
});
