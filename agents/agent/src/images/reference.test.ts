import { describe, expect, it } from "vitest";
import { digestHex, normalizeName, parseImageRef } from "./reference.ts";

const hex = "0123456789abcdef".repeat(4);

describe("image references", () => {
  it("normalises a name to name:tag", () => {
    expect(normalizeName("busybox")).toBe("busybox:latest");
    expect(normalizeName("busybox:1.36")).toBe("busybox:1.36");
    expect(normalizeName(" shop/web ")).toBe("shop/web:latest");
    expect(normalizeName("registry.local:5000/shop/web")).toBe("registry.local:5000/shop/web:latest");
    expect(normalizeName("localhost/app:v1_2.3-rc")).toBe("localhost/app:v1_2.3-rc");
    expect(normalizeName("my_app__x/a-b.c")).toBe("my_app__x/a-b.c:latest");
  });

  it("refuses malformed names", () => {
    for (const bad of [
      "",
      "Busybox",
      "busy box",
      "busybox:",
      "a/:tag",
      "-x",
      "x:-tag",
      "x@sha256:abc",
      hex,
    ]) {
      expect(() => normalizeName(bad), bad).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
    }
    expect(() => normalizeName(`x:${"t".repeat(129)}`)).toThrow(/tag/);
  });

  it("parses digests: full, sha256:prefix, bare hex (also tried as a name)", () => {
    expect(parseImageRef(`sha256:${hex}`)).toEqual([{ kind: "digest", hex, prefix: false }]);
    expect(parseImageRef(hex)).toEqual([{ kind: "digest", hex, prefix: false }]);
    expect(parseImageRef("sha256:0123456789ab")).toEqual([
      { kind: "digest", hex: "0123456789ab", prefix: true },
    ]);
    expect(parseImageRef("0123456789ab")).toEqual([
      { kind: "name", name: "0123456789ab:latest" },
      { kind: "digest", hex: "0123456789ab", prefix: true },
    ]);
    expect(parseImageRef("abc123")).toEqual([{ kind: "name", name: "abc123:latest" }]);
    expect(() => parseImageRef("sha256:0123")).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
    expect(() => parseImageRef("sha256:XYZ")).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
  });

  it("digestHex checks the form", () => {
    expect(digestHex(`sha256:${hex}`)).toBe(hex);
    expect(() => digestHex(hex)).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
  });
});
