import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cacheKey, createBuildCache } from "./cache.ts";
import { type BuildState, stateId } from "./image-config.ts";

const base = {
  parent: "sha256:aaaa",
  instruction: "RUN /bin/sh -c make",
  args: [["A", "1"]] as [string, string][],
  content: null,
};

describe("cacheKey", () => {
  it("is stable for the same inputs, whatever the order of build args", () => {
    const two = {
      ...base,
      args: [
        ["B", "2"],
        ["A", "1"],
      ] as [string, string][],
    };
    expect(cacheKey(two)).toBe(
      cacheKey({
        ...two,
        args: [
          ["A", "1"],
          ["B", "2"],
        ],
      }),
    );
    expect(cacheKey(base)).toMatch(/^[a-f0-9]{64}$/);
  });

  it.each([
    ["the parent", { parent: "sha256:bbbb" }],
    ["the instruction", { instruction: "RUN /bin/sh -c make install" }],
    ["a build arg's value", { args: [["A", "2"]] as [string, string][] }],
    [
      "a new build arg",
      {
        args: [
          ["A", "1"],
          ["B", ""],
        ] as [string, string][],
      },
    ],
    ["the content hash", { content: "sha256:cccc" }],
    ["the network", { network: "none" }],
  ])("changes with %s", (_what, change) => {
    expect(cacheKey({ ...base, ...change })).not.toBe(cacheKey(base));
  });
});

describe("stateId", () => {
  const state: BuildState = { layers: ["sha256:1"], config: { Env: ["A=1"], Cmd: ["sh"] }, history: [] };

  it("ignores history and key order, not layers or config", () => {
    const reordered: BuildState = {
      layers: ["sha256:1"],
      config: { Cmd: ["sh"], Env: ["A=1"] },
      history: [{ created: new Date().toISOString(), created_by: "x" }],
    };
    expect(stateId(reordered)).toBe(stateId(state));
    expect(stateId({ ...state, layers: ["sha256:2"] })).not.toBe(stateId(state));
    expect(stateId({ ...state, config: { ...state.config, User: "app" } })).not.toBe(stateId(state));
  });
});

describe("createBuildCache", () => {
  it("stores and finds entries by key; a missing key is null", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "berth-cache-"));
    try {
      const cache = createBuildCache(dir);
      const entry = {
        layer: null,
        config: { User: "app" },
        history: { created_by: "USER app", empty_layer: true },
      };
      await cache.put("k1", entry);
      expect(await cache.get("k1")).toEqual(entry);
      expect(await cache.get("k2")).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
