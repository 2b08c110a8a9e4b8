import { describe, expect, it } from "vitest";
import { canTransition, transition } from "./state.ts";

describe("container state machine", () => {
  it.each([
    ["creating", "created"],
    ["created", "running"],
    ["running", "stopped"],
    ["stopped", "running"],
    ["stopped", "removing"],
    ["created", "removing"],
  ] as const)("allows %s → %s", (from, to) => {
    expect(transition("c", from, to)).toBe(to);
  });

  it.each([
    ["running", "running"],
    ["running", "removing"],
    ["removing", "running"],
    ["creating", "running"],
    ["stopped", "created"],
  ] as const)("refuses %s → %s with FailedPrecondition", (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    expect(() => transition("web", from, to)).toThrowError(
      expect.objectContaining({ code: "FailedPrecondition" }),
    );
  });

  it("says what to do when removing a running container", () => {
    expect(() => transition("web", "running", "removing")).toThrow(/--force/);
  });
});
