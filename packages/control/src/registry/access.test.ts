import type { Role } from "@berth/db";
import { describe, expect, it } from "vitest";
import { repositoryNamespace, repositoryRights } from "./access.ts";
import { parseRegistryScopes } from "./auth.ts";

describe("repositoryRights", () => {
  const cases: [string, Role | null, boolean, Role | null, string[]][] = [
    ["fleet owner, anywhere", "owner", true, null, ["pull", "push", "delete"]],
    ["fleet admin, unowned namespace", "admin", false, null, ["pull", "push", "delete"]],
    ["fleet operator, unowned namespace", "operator", false, null, ["pull"]],
    ["fleet viewer, unowned namespace", "viewer", false, null, ["pull"]],
    ["no fleet role, unowned namespace", null, false, null, ["pull"]],
    ["fleet operator, another team's namespace", "operator", true, null, []],
    ["team viewer", "viewer", true, "viewer", ["pull"]],
    ["team operator", "viewer", true, "operator", ["pull", "push"]],
    ["team admin", "viewer", true, "admin", ["pull", "push", "delete"]],
    ["team owner without a fleet role", null, true, "owner", ["pull", "push", "delete"]],
  ];
  it.each(cases)("%s", (_, fleetRole, ownedByTeam, teamRole, expected) => {
    expect(repositoryRights({ fleetRole, ownedByTeam, teamRole })).toEqual(expected);
  });
});

describe("repositoryNamespace", () => {
  it("is the first path component", () => {
    expect(repositoryNamespace("shop/web")).toBe("shop");
    expect(repositoryNamespace("shop/tools/cli")).toBe("shop");
    expect(repositoryNamespace("busybox")).toBe("busybox");
  });
});

describe("parseRegistryScopes", () => {
  it("reads repository and catalog scopes, several per parameter", () => {
    expect(
      parseRegistryScopes(["repository:shop/web:pull,push repository:shop/db:pull", "registry:catalog:*"]),
    ).toEqual([
      { type: "repository", name: "shop/web", actions: ["pull", "push"] },
      { type: "repository", name: "shop/db", actions: ["pull"] },
      { type: "registry", name: "catalog", actions: ["*"] },
    ]);
    expect(parseRegistryScopes(["repository(plugin):shop/x:pull"])).toEqual([
      { type: "repository", name: "shop/x", actions: ["pull"] },
    ]);
  });

  it("ignores what it does not understand", () => {
    expect(
      parseRegistryScopes(["", "nonsense", "repository:Bad Name:pull", "registry:other:*", "volume:x:pull"]),
    ).toEqual([]);
  });

  it("honours a bounded number of scopes", () => {
    const many = Array.from({ length: 100 }, (_, i) => `repository:r/${i}:pull`).join(" ");
    expect(parseRegistryScopes([many])).toHaveLength(32);
  });
});
