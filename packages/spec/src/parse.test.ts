import { describe, expect, it } from "vitest";
import { formatIssue, SpecError } from "./errors.ts";
import { parseStack, parseStackOrThrow } from "./parse.ts";

const minimal = "name: s\nservices:\n  web:\n    image: nginx\n";

describe("parseStack", () => {
  it("fills every default for a minimal file", () => {
    const r = parseStack(minimal);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec.services.web?.deploy.replicas).toBe(1);
    expect(r.spec.services.web?.deploy.update.order).toBe("stop-first");
    expect(r.spec.services.web?.stopGracePeriodMs).toBe(10_000);
    expect(r.warnings).toEqual([]);
  });

  it("takes the name from the options when the file has none, the file's first", () => {
    const noName = "services:\n  web:\n    image: nginx\n";
    expect(parseStack(noName, { name: "given" })).toMatchObject({ ok: true, spec: { name: "given" } });
    expect(parseStack(minimal, { name: "given" })).toMatchObject({ ok: true, spec: { name: "s" } });
    expect(parseStack(noName)).toMatchObject({
      ok: false,
      issues: [{ message: expect.stringContaining("no name") }],
    });
  });

  it("refuses a file over the size bound before parsing it", () => {
    const big = `${minimal}# ${"x".repeat(2000)}\n`;
    const r = parseStack(big, { limits: { maxBytes: 1000 } });
    expect(r).toMatchObject({ ok: false, issues: [{ kind: "limit" }] });
  });

  it("reads env files through the caller, and says where it could not", () => {
    const file = `${minimal}    env_file: [app.env, { path: opt.env, required: false }]\n    environment: { B: override }\n`;
    const r = parseStack(file, { readFile: (p) => (p === "app.env" ? "A=1\nB=2\n" : undefined) });
    expect(r).toMatchObject({
      ok: true,
      spec: { services: { web: { environment: { A: "1", B: "override" } } } },
    });
    const without = parseStack(file);
    expect(without).toMatchObject({
      ok: false,
      issues: [{ kind: "invalid", line: 5, message: expect.stringContaining("use environment:") }],
    });
  });

  it("finds every problem in one pass, each with a position", () => {
    const file = [
      "name: s",
      "services:",
      "  a:",
      "    image: nginx",
      "    ports: ['99999']",
      "    deploy: { replicas: many }",
      "  b:",
      "    image: nginx",
      "    volumes: ['x:/x', 'y:/x']",
      "volumes: { x: {}, y: {} }",
    ].join("\n");
    const r = parseStack(file);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => `${i.line}:${i.column}`)).toEqual(["5:13", "6:25", "9:14"]);
  });

  it("refuses the same host port twice and warns about ignored keys", () => {
    const r = parseStack(`${minimal}    ports: ['80:80', '80:8080']\n    container_name: web1\n`);
    expect(r).toMatchObject({ ok: false, issues: [{ message: expect.stringContaining("published twice") }] });
    expect(r.warnings).toMatchObject([{ line: 6, message: expect.stringContaining("container_name") }]);
  });

  it("maps Compose's restart onto the restart policy and refuses both at once", () => {
    const r = parseStack(`${minimal}    restart: unless-stopped\n`);
    expect(r).toMatchObject({
      ok: true,
      spec: { services: { web: { deploy: { restart: { condition: "any" } } } } },
    });
    const both = parseStack(
      `${minimal}    restart: "no"\n    deploy: { restart_policy: { condition: any } }\n`,
    );
    expect(both).toMatchObject({ ok: false, issues: [{ message: expect.stringContaining("not both") }] });
  });

  it("never throws, whatever the input", () => {
    for (const input of [
      "",
      "[",
      "{a: b",
      "- - -",
      "services: 3",
      "name: 1\nservices: [a]",
      "\u0000",
      "a: !!binary x",
    ]) {
      expect(() => parseStack(input, { name: "s" })).not.toThrow();
      expect(parseStack(input, { name: "s" }).ok).toBe(false);
    }
  });
});

describe("parseStackOrThrow", () => {
  it("throws a SpecError that lists file:line:column per issue", () => {
    try {
      parseStackOrThrow("name: s\nservices:\n  web:\n    imag: nginx\n", { fileName: "stack.yaml" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SpecError);
      const e = err as SpecError;
      expect(e.issues[0]?.kind).toBe("unknown-key");
      expect(formatIssue(e.issues[0]!, "stack.yaml")).toMatch(
        /^stack\.yaml:4:5: services\.web\.imag: unknown key/,
      );
    }
  });
});
