import { describe, expect, it } from "vitest";
import { createLineJoiner, formatLogLine, parseLogLine } from "./cri.ts";

describe("parseLogLine", () => {
  it("parses a full record and normalises its time to UTC, keeping nanoseconds", () => {
    const record = parseLogLine("2026-11-27T18:58:00.123456789+01:00 stdout F hello world\n");
    expect(record).toEqual({
      time: "2026-11-27T17:58:00.123456789Z",
      timeMs: Date.parse("2026-11-27T17:58:00.123Z"),
      stream: "stdout",
      partial: false,
      text: "hello world",
    });
  });

  it("parses partial records, empty text, extra tags and spaces inside the text", () => {
    expect(parseLogLine("2026-11-27T18:58:00Z stderr P  two  spaces")).toMatchObject({
      stream: "stderr",
      partial: true,
      text: " two  spaces",
    });
    expect(parseLogLine("2026-11-27T18:58:00.5Z stdout F ")).toMatchObject({
      text: "",
      time: "2026-11-27T18:58:00.5Z",
    });
    expect(parseLogLine("2026-11-27T18:58:00Z stdout F")).toMatchObject({ text: "" });
    expect(parseLogLine("2026-11-27T18:58:00Z stdout F:x y")).toMatchObject({ partial: false, text: "y" });
  });

  it("rejects what is not a record", () => {
    for (const bad of [
      "",
      "garbage",
      "2026-11-27T18:58:00Z stdin F x",
      "2026-11-27T18:58:00Z stdout X x",
      "yesterday stdout F x",
      "2026-13-45T99:99:99Z stdout F x",
    ]) {
      expect(parseLogLine(bad), bad).toBeNull();
    }
  });

  it("round-trips formatLogLine", () => {
    const line = formatLogLine(new Date("2026-01-02T03:04:05.678Z"), "stderr", "boom", true);
    expect(line).toBe("2026-01-02T03:04:05.678Z stderr P boom\n");
    expect(parseLogLine(line)).toMatchObject({ stream: "stderr", partial: true, text: "boom" });
  });
});

describe("createLineJoiner", () => {
  const rec = (stream: "stdout" | "stderr", text: string, partial: boolean, s = 0) =>
    parseLogLine(formatLogLine(new Date(Date.UTC(2026, 0, 1, 0, 0, s)), stream, text, partial))!;

  it("joins partial records per stream and keeps the first fragment's time", () => {
    const joiner = createLineJoiner();
    expect(joiner.push(rec("stdout", "hel", true, 1))).toBeNull();
    expect(joiner.push(rec("stderr", "err", false, 2))).toMatchObject({ stream: "stderr", line: "err" });
    expect(joiner.push(rec("stdout", "lo", true, 3))).toBeNull();
    const done = joiner.push(rec("stdout", "!", false, 4));
    expect(done).toMatchObject({ stream: "stdout", line: "hello!", time: "2026-01-01T00:00:01.000Z" });
    expect(joiner.flush()).toEqual([]);
  });

  it("flushes unfinished lines in time order", () => {
    const joiner = createLineJoiner();
    joiner.push(rec("stderr", "b", true, 2));
    joiner.push(rec("stdout", "a", true, 1));
    expect(joiner.flush().map((l) => l.line)).toEqual(["a", "b"]);
  });
});
