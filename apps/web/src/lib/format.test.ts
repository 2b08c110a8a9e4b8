import { describe, expect, it } from "vitest";
import { agentCommand, formatBytes, formatRelative, formatSize, shortDigest, toDate } from "./format.ts";

describe("format", () => {
  const now = Date.parse("2026-11-27T12:00:00Z");

  it("reads API dates given as ISO strings or Dates, and rejects garbage", () => {
    expect(toDate("2026-11-27T12:00:00.000Z")?.getTime()).toBe(now);
    expect(toDate(new Date(now))?.getTime()).toBe(now);
    expect(toDate("not a date")).toBeNull();
    expect(toDate(null)).toBeNull();
  });

  it.each([
    [0, "just now"],
    [-1500, "just now"],
    [-2000, "in 2s"],
    [5_000, "5s ago"],
    [125_000, "2m ago"],
    [3 * 3600_000, "3h ago"],
    [50 * 3600_000, "2d ago"],
    [-3600_000, "in 1h"],
  ])("a time %i ms in the past reads %s", (ago, text) => {
    expect(formatRelative(new Date(now - ago).toISOString(), now)).toBe(text);
  });

  it("never shows a past moment in the future because of clock skew", () => {
    expect(formatRelative(new Date(now + 5000), now, true)).toBe("just now");
    expect(formatRelative(new Date(now - 5000), now, true)).toBe("5s ago");
  });

  it("shows memory in binary units", () => {
    expect(formatBytes(16 * 2 ** 30)).toBe("16.0 GiB");
    expect(formatBytes(512 * 2 ** 20)).toBe("512 MiB");
    expect(formatBytes(256 * 2 ** 30)).toBe("256 GiB");
    expect(formatBytes(null)).toBe("—");
  });

  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KiB"],
    [200 * 1024, "200 KiB"],
    [18.3 * 2 ** 20, "18.3 MiB"],
    [1.25 * 2 ** 30, "1.3 GiB"],
    [null, "—"],
  ])("shows %s bytes of an image as %s", (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it("shortens a digest to its first 12 hex digits", () => {
    expect(shortDigest(`sha256:${"0123456789abcdef".repeat(4)}`)).toBe("sha256:0123456789ab");
    expect(shortDigest("weird")).toBe("weird");
  });

  it("builds the exact agent command", () => {
    expect(agentCommand("http://127.0.0.1:3000", "bjt_x")).toBe(
      "berth-agent --server http://127.0.0.1:3000 --join-token bjt_x",
    );
  });
});
