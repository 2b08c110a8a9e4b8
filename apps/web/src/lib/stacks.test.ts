import { describe, expect, it } from "vitest";
import { canChangeStacks, formatValue, groupByHost, replicaTone, taskTone } from "./stacks.ts";

describe("stack helpers", () => {
  it("groups tasks by host name, unplaced tasks last, each host's by service and slot", () => {
    const t = (service: string, slot: number, hostId: string | null, hostName: string | null) => ({
      service,
      slot,
      hostId,
      hostName,
    });
    const groups = groupByHost([
      t("web", 2, "h2", "beta"),
      t("db", 1, null, null),
      t("web", 1, "h1", "alpha"),
      t("api", 1, "h2", "beta"),
      t("web", 3, null, null),
    ]);
    expect(groups.map((g) => g.hostName)).toEqual(["alpha", "beta", "Not placed"]);
    expect(groups[1]!.tasks.map((x) => `${x.service}.${x.slot}`)).toEqual(["api.1", "web.2"]);
    expect(groups[2]!.tasks.map((x) => `${x.service}.${x.slot}`)).toEqual(["db.1", "web.3"]);
  });

  it("colours states", () => {
    expect(taskTone("running")).toBe("ok");
    expect(taskTone("pending")).toBe("warn");
    expect(taskTone("failed")).toBe("bad");
    expect(taskTone("shutdown")).toBe("neutral");
    expect(replicaTone(2, 2)).toBe("ok");
    expect(replicaTone(1, 2)).toBe("warn");
    expect(replicaTone(0, 2)).toBe("bad");
  });

  it("shows plan values briefly", () => {
    expect(formatValue("busybox:1.36")).toBe("busybox:1.36");
    expect(formatValue(3)).toBe("3");
    expect(formatValue(["a", "b"])).toBe('["a","b"]');
    expect(formatValue(undefined)).toBe("—");
  });

  it("lets operators and up change stacks", () => {
    expect(canChangeStacks("operator")).toBe(true);
    expect(canChangeStacks("admin")).toBe(true);
    expect(canChangeStacks("viewer")).toBe(false);
    expect(canChangeStacks(undefined)).toBe(false);
  });
});
