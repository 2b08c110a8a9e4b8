import { describe, expect, it } from "vitest";
import { CliError } from "./errors.ts";
import { needsStacks, parseAssignment, parseScaleArgs } from "./scale.ts";

describe("parseScaleArgs", () => {
  it("reads STACK SERVICE=N…", () => {
    expect(parseScaleArgs(["shop", "web=3", "worker=0"])).toEqual([
      { stack: "shop", service: "web", replicas: 3 },
      { stack: "shop", service: "worker", replicas: 0 },
    ]);
    expect(needsStacks(["shop", "web=3"])).toBe(false);
  });

  it("splits Docker's STACK_SERVICE=N at a stack that exists", () => {
    const stacks = [{ name: "shop" }, { name: "my_app" }];
    expect(needsStacks(["my_app_web=2"])).toBe(true);
    expect(parseScaleArgs(["my_app_web=2", "shop_api_v2=1"], stacks)).toEqual([
      { stack: "my_app", service: "web", replicas: 2 },
      { stack: "shop", service: "api_v2", replicas: 1 },
    ]);
  });

  it("refuses an ambiguous or unknown STACK_SERVICE", () => {
    expect(() => parseScaleArgs(["a_b_c=1"], [{ name: "a" }, { name: "a_b" }])).toThrow(/ambiguous/);
    const unknown = (() => {
      try {
        parseScaleArgs(["nope_web=1"], [{ name: "shop" }]);
      } catch (err) {
        return err;
      }
    })();
    expect(unknown).toBeInstanceOf(CliError);
    expect((unknown as CliError).code).toBe("NotFound");
  });

  it.each([
    [[]],
    [["shop"]],
    [["shop", "web"]],
    [["shop", "web=-1"]],
    [["shop", "web=x"]],
    [["shop", "web=10001"]],
  ])("refuses %j", (args) => {
    expect(() => parseScaleArgs(args)).toThrow();
  });
});

describe("parseAssignment", () => {
  it("reads SERVICE=N", () => {
    expect(parseAssignment(" web=12 ")).toEqual(["web", 12]);
  });
});
