import { describe, expect, it } from "vitest";
import { labelsText, parseLabelArgs } from "./hosts.ts";

describe("parseLabelArgs", () => {
  it("sets KEY=VALUE and removes KEY-", () => {
    expect(parseLabelArgs(["zone=eu-1", "ssd-", "note=a=b", "empty="])).toEqual({
      zone: "eu-1",
      ssd: null,
      note: "a=b",
      empty: "",
    });
  });

  it.each([
    [[]],
    [["zone"]],
    [["=x"]],
    [["-"]],
    [["bad key=1"]],
    [["a=1", "a-"]],
    [[`k=${"v".repeat(256)}`]],
  ])("refuses %j", (args) => {
    expect(() => parseLabelArgs(args)).toThrow();
  });
});

describe("labelsText", () => {
  it("lists labels sorted, or none", () => {
    expect(labelsText({ zone: "a", disk: "ssd" })).toBe("disk=ssd, zone=a");
    expect(labelsText({})).toBe("none");
  });
});
