import { describe, expect, it } from "vitest";
import { type EventRow, eventLine, parseSince, parseTypes } from "./events.ts";

describe("parseTypes", () => {
  it("reads repeated and comma-separated types, once each", () => {
    expect(parseTypes(["task,service", "TASK", "host"])).toEqual(["task", "service", "host"]);
  });

  it("names the accepted types", () => {
    expect(() => parseTypes(["container"])).toThrow(
      '"container" is not an event type; use stack, service, task, host, registry',
    );
  });
});

describe("parseSince", () => {
  const now = Date.parse("2025-06-01T12:00:00Z");
  it("reads a duration back from now, or a time", () => {
    expect(parseSince("10m", now)).toBe(now - 600_000);
    expect(parseSince("2025-06-01T09:00:00Z", now)).toBe(Date.parse("2025-06-01T09:00:00Z"));
  });

  it.each(["yesterday", "2025-13-45"])("refuses %j", (text) => {
    expect(() => parseSince(text, now)).toThrow();
  });
});

describe("eventLine", () => {
  it("prints the time, the kind and the message on one line, control characters shown", () => {
    const e = {
      id: 1,
      at: "2025-06-01T12:00:00.000Z",
      kind: "task.failed",
      subjectType: "task",
      subjectId: "tsk_1",
      message: "web.1 failed on h1: exit 1\u001b[2J",
      data: {},
    } as unknown as EventRow;
    expect(eventLine(e)).toBe("2025-06-01 12:00:00 UTC  task.failed       web.1 failed on h1: exit 1?[2J\n");
  });
});
