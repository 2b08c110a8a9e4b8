import type { StackPlan } from "@berth/spec";
import { describe, expect, it } from "vitest";
import { formatValue, renderPlan, renderWarnings, taskCounts } from "./plan.ts";

const plan: StackPlan = {
  stack: "shop",
  empty: false,
  services: [
    {
      name: "api",
      action: "create",
      changes: [],
      replicas: { from: 0, to: 2 },
      restarts: 0,
      starts: 2,
      stops: 0,
    },
    {
      name: "web",
      action: "update",
      changes: [
        { field: "image", from: "web:1", to: "web:2", restarts: true },
        { field: "environment.MODE", to: "prod", restarts: true },
        { field: "deploy.replicas", from: 2, to: 3, restarts: false },
      ],
      replicas: { from: 2, to: 3 },
      restarts: 2,
      starts: 1,
      stops: 0,
    },
    {
      name: "worker",
      action: "remove",
      changes: [],
      replicas: { from: 1, to: 0 },
      restarts: 0,
      starts: 0,
      stops: 1,
    },
    {
      name: "db",
      action: "unchanged",
      changes: [],
      replicas: { from: 1, to: 1 },
      restarts: 0,
      starts: 0,
      stops: 0,
    },
  ],
};

describe("renderPlan", () => {
  it("shows each service's action, its changed fields and the tasks that start, restart and stop", () => {
    expect(renderPlan(plan, { from: 3 })).toBe(
      [
        "Stack shop (revision 3 → 4):",
        "",
        "  + api      create     2 replicas; tasks: 2 to start",
        "  ~ web      update     replicas 2 → 3; tasks: 1 to start, 2 to restart",
        '      image             "web:1" → "web:2"',
        '      environment.MODE  (none) → "prod"',
        "      deploy.replicas   2 → 3   (no restart)",
        "  - worker   remove     had 1 replica; task: 1 to stop",
        "    db       unchanged  1 replica",
        "",
        "Tasks: 3 to start, 2 to restart, 1 to stop.",
        "",
      ].join("\n"),
    );
  });

  it("says so when nothing would change", () => {
    expect(renderPlan({ stack: "shop", empty: true, services: [] }, { from: 2 })).toBe(
      "No changes: stack shop is up to date at revision 2.\n",
    );
  });

  it("names a new stack's revision as none → 1", () => {
    expect(renderPlan({ ...plan, services: plan.services.slice(0, 1) }, { from: 0 })).toMatch(
      /^Stack shop \(revision none → 1\):/,
    );
  });
});

describe("formatValue", () => {
  it.each([
    [undefined, "(none)"],
    ["web:1", '"web:1"'],
    [3, "3"],
    [["a", "b"], '["a","b"]'],
    ["line\u001b[2J", '"line\\u001b[2J"'],
  ])("%j → %s", (value, text) => {
    expect(formatValue(value)).toBe(text);
  });

  it("cuts long values short", () => {
    const text = formatValue("x".repeat(200));
    expect([...text]).toHaveLength(80);
    expect(text.endsWith("…")).toBe(true);
  });
});

describe("taskCounts", () => {
  it("is empty when no task changes", () => {
    expect(taskCounts({ starts: 0, stops: 0, restarts: 0 })).toBe("");
  });
});

describe("renderWarnings", () => {
  it("prints file:line:column: warning: path: message", () => {
    expect(
      renderWarnings("stack.yaml", [
        { path: ["version"], line: 1, column: 1, message: '"version" is ignored' },
        { path: [], message: "somewhere" },
      ]),
    ).toBe('stack.yaml:1:1: warning: version: "version" is ignored\nstack.yaml: warning: somewhere\n');
  });
});
