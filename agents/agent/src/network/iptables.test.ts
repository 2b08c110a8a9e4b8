import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { containerChains, planSweep, splitRule } from "./iptables.ts";

const save = readFileSync(new URL("./__fixtures__/iptables-save-nat.txt", import.meta.url), "utf8");

describe("leftover iptables rules", () => {
  it("names the per-container chains the bridge and portmap plugins create", () => {
    // As seen in the fixture, made by the real plugins for network "exptest", container "abc123def456".
    expect(containerChains("exptest", "abc123def456")).toEqual([
      "CNI-8a850c74f1ae079bcb8f37e8",
      "CNI-DN-8a850c74f1ae079bcb8f3",
    ]);
  });

  it("splits iptables-save rules, unquoting comments", () => {
    expect(
      splitRule('-A POSTROUTING -s 10.0.0.2/32 -m comment --comment "name: \\"n\\" id: \\"c\\"" -j X'),
    ).toEqual([
      "-A",
      "POSTROUTING",
      "-s",
      "10.0.0.2/32",
      "-m",
      "comment",
      "--comment",
      'name: "n" id: "c"',
      "-j",
      "X",
    ]);
    expect(splitRule('-A C -m comment --comment "" -j ACCEPT')).toEqual([
      "-A",
      "C",
      "-m",
      "comment",
      "--comment",
      "",
      "-j",
      "ACCEPT",
    ]);
  });

  it("plans to delete the container's tagged rules and jumps, then its chains, and nothing else", () => {
    const plan = planSweep(save, "nat", "abc123def456", containerChains("exptest", "abc123def456"));
    expect(plan.chains.sort()).toEqual(["CNI-8a850c74f1ae079bcb8f37e8", "CNI-DN-8a850c74f1ae079bcb8f3"]);
    expect(plan.deletions.map((d) => d.chain)).toEqual(["POSTROUTING", "CNI-HOSTPORT-DNAT"]);
    expect(plan.deletions[0]?.args).toEqual([
      "-s",
      "10.198.7.2/32",
      "-m",
      "comment",
      "--comment",
      'name: "exptest" id: "abc123def456"',
      "-j",
      "CNI-8a850c74f1ae079bcb8f37e8",
    ]);
  });

  it("finds nothing for a container without rules, or one whose id is a prefix of another's", () => {
    expect(planSweep(save, "nat", "nobody", containerChains("exptest", "nobody"))).toEqual({
      deletions: [],
      chains: [],
    });
    expect(planSweep(save, "nat", "abc123", containerChains("exptest", "abc123")).deletions).toEqual([]);
  });
});
