import { describe, expect, it } from "vitest";
import { isMounted, overlayOptions } from "./rootfs.ts";

describe("overlayOptions", () => {
  it("puts the topmost layer first in lowerdir (layerDirs are lowest first)", () => {
    expect(overlayOptions(["/l/base", "/l/mid", "/l/top"], "/c/upper", "/c/work")).toBe(
      "lowerdir=/l/top:/l/mid:/l/base,upperdir=/c/upper,workdir=/c/work",
    );
  });

  it("uses overlay for a single layer too, so the layer is never written", () => {
    expect(overlayOptions(["/l/only"], "/c/upper", "/c/work")).toBe(
      "lowerdir=/l/only,upperdir=/c/upper,workdir=/c/work",
    );
  });

  it("refuses no layers and paths that would break the option string", () => {
    for (const args of [
      [[], "/u", "/w"],
      [["/l/a,upperdir=/etc"], "/u", "/w"],
      [["/l/a:b"], "/u", "/w"],
      [["relative"], "/u", "/w"],
      [["/l/a"], "/u,x", "/w"],
    ] as const) {
      expect(() => overlayOptions(args[0], args[1], args[2])).toThrow(
        expect.objectContaining({ code: "InvalidArgument" }),
      );
    }
  });
});

describe("isMounted", () => {
  it("knows / and /proc are mount points and a plain directory is not", async () => {
    expect(await isMounted("/")).toBe(true);
    expect(await isMounted("/proc")).toBe(true);
    expect(await isMounted("/proc/self")).toBe(false);
  });
});
