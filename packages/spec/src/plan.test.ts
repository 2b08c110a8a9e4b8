import { describe, expect, it } from "vitest";
import type { StackSpec } from "./model.ts";
import { parseStackOrThrow } from "./parse.ts";
import { planStack, templateDigest } from "./plan.ts";

function spec(services: string): StackSpec {
  return parseStackOrThrow(`name: shop\nservices:\n${services}`);
}

const v1 = spec("  web:\n    image: web:1\n    deploy: { replicas: 3 }\n  db:\n    image: pg:16\n");

describe("planStack", () => {
  it("creates every service of a new stack", () => {
    const plan = planStack(null, v1);
    expect(plan.services.map((s) => [s.name, s.action, s.starts])).toEqual([
      ["db", "create", 1],
      ["web", "create", 3],
    ]);
    expect(plan.empty).toBe(false);
  });

  it("is empty when nothing changes", () => {
    expect(planStack(v1, v1).empty).toBe(true);
  });

  it("names changed fields and counts restarts, scaling without restarts", () => {
    const v2 = spec("  web:\n    image: web:2\n    deploy: { replicas: 5 }\n  db:\n    image: pg:16\n");
    const web = planStack(v1, v2).services.find((s) => s.name === "web")!;
    expect(web.action).toBe("update");
    expect(web.changes).toEqual([
      { field: "deploy.replicas", from: 3, to: 5, restarts: false },
      { field: "image", from: "web:1", to: "web:2", restarts: true },
    ]);
    expect(web).toMatchObject({ restarts: 3, starts: 2, stops: 0 });

    const scaledOnly = spec(
      "  web:\n    image: web:1\n    deploy: { replicas: 1 }\n  db:\n    image: pg:16\n",
    );
    expect(planStack(v1, scaledOnly).services.find((s) => s.name === "web")).toMatchObject({
      restarts: 0,
      stops: 2,
    });
  });

  it("uses the task counts it is given and reports removals", () => {
    const onlyWeb = spec("  web:\n    image: web:1\n    deploy: { replicas: 3 }\n");
    const plan = planStack(v1, onlyWeb, { tasks: { db: 2, web: 3 } });
    expect(plan.services.find((s) => s.name === "db")).toMatchObject({ action: "remove", stops: 2 });
  });

  it("compares environment variables one by one", () => {
    const a = spec("  web:\n    image: web:1\n    environment: { A: '1', B: '2' }\n");
    const b = spec("  web:\n    image: web:1\n    environment: { A: '1', C: '3' }\n");
    expect(planStack(a, b).services[0]?.changes.map((c) => c.field)).toEqual([
      "environment.B",
      "environment.C",
    ]);
  });
});

describe("templateDigest", () => {
  it("ignores replicas and policies but not what the containers run", () => {
    const base = v1.services.web!;
    const scaled = {
      ...base,
      deploy: { ...base.deploy, replicas: 9, update: { ...base.deploy.update, parallelism: 4 } },
    };
    expect(templateDigest(scaled)).toBe(templateDigest(base));
    expect(templateDigest({ ...base, environment: { X: "1" } })).not.toBe(templateDigest(base));
    expect(templateDigest(base)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
