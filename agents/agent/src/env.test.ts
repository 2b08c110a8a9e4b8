import { isBerthError } from "@berth/protocol";
import { describe, expect, it } from "vitest";
import { DEFAULT_STATE_DIR, loadEnv } from "./env.ts";

describe("loadEnv", () => {
  it("applies defaults and treats empty variables as unset", () => {
    expect(loadEnv({ BERTH_SERVER: "", BERTH_JOIN_TOKEN: "" })).toEqual({
      BERTH_SERVER: undefined,
      BERTH_JOIN_TOKEN: undefined,
      BERTH_AGENT_STATE_DIR: DEFAULT_STATE_DIR,
      BERTH_LOG_LEVEL: "info",
      BERTH_ALLOW_HOST_BINDS: true,
    });
    expect(loadEnv({ BERTH_ALLOW_HOST_BINDS: "false" }).BERTH_ALLOW_HOST_BINDS).toBe(false);
  });

  it("normalises the server URL and keeps the rest", () => {
    const env = loadEnv({
      BERTH_SERVER: "https://berth.example.com/",
      BERTH_JOIN_TOKEN: "t".repeat(20),
      BERTH_AGENT_STATE_DIR: "/srv/berth",
      BERTH_LOG_LEVEL: "debug",
    });
    expect(env).toMatchObject({
      BERTH_SERVER: "https://berth.example.com",
      BERTH_AGENT_STATE_DIR: "/srv/berth",
    });
  });

  it.each([{ BERTH_SERVER: "ftp://x" }, { BERTH_LOG_LEVEL: "loud" }])(
    "rejects %j as InvalidArgument",
    (source) => {
      const err = (() => {
        try {
          return loadEnv(source);
        } catch (e) {
          return e;
        }
      })();
      expect(isBerthError(err) && err.code).toBe("InvalidArgument");
    },
  );
});
