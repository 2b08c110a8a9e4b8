import { describe, expect, it } from "vitest";
import { withReplicas } from "./operations.ts";

describe("withReplicas", () => {
  it("changes only the number, keeping comments and flow lists as written", () => {
    const text = [
      "name: shop # the shop",
      "services:",
      "  web:",
      '    command: ["httpd", "-f"]',
      "    deploy:",
      "      replicas: 3 # three",
      "  db:",
      "    deploy: { replicas: 3 }",
    ].join("\n");
    expect(withReplicas(text, "web", 12)).toBe(text.replace("replicas: 3 # three", "replicas: 12 # three"));
    expect(withReplicas(text, "db", 1)).toBe(text.replace("{ replicas: 3 }", "{ replicas: 1 }"));
  });

  it("adds replicas where the file has none", () => {
    const text = 'name: s\nservices:\n  web:\n    image: nginx\n    command: ["a", "b"]\n';
    expect(withReplicas(text, "web", 2)).toBe(
      'name: s\nservices:\n  web:\n    image: nginx\n    command: ["a", "b"]\n    deploy:\n      replicas: 2\n',
    );
  });
});
