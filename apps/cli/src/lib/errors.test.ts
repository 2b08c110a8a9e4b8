import { EXIT_CODES } from "@berth/protocol/errors";
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { apiError, guardedFetch } from "./api.ts";
import { CliError, describeError, errorLine, InterruptedError, UsageError } from "./errors.ts";

const target = { server: "http://berth.test", token: "bat_x", tokenSource: "config" as const };

function serverError(message: string, code: string, berthCode: string | null) {
  return TRPCClientError.from({
    error: { code: -32000, message, data: { code, httpStatus: 400, berthCode } },
  });
}

describe("describeError", () => {
  it("gives each error code its exit code and one line", () => {
    for (const code of Object.keys(EXIT_CODES) as Array<keyof typeof EXIT_CODES>) {
      const d = describeError(new CliError(code, "it went\nwrong", { hint: "try again" }));
      expect(d).toEqual({ exitCode: EXIT_CODES[code], message: "it went wrong; try again" });
    }
  });

  it("exits 1 for usage errors, 130 for Ctrl-C and Internal for anything else", () => {
    expect(describeError(new UsageError("--ttl: bad")).exitCode).toBe(1);
    expect(describeError(new InterruptedError()).exitCode).toBe(130);
    expect(describeError(new TypeError("x is undefined"))).toEqual({
      exitCode: EXIT_CODES.Internal,
      message: "internal error: x is undefined",
    });
  });

  it("prefixes the line with berth:", () => {
    expect(errorLine(new CliError("NotFound", "host h does not exist"))).toBe(
      "berth: host h does not exist\n",
    );
  });
});

describe("apiError", () => {
  it("uses the server's Berth code when there is one", () => {
    const err = apiError(serverError("join token jt_1 does not exist", "NOT_FOUND", "NotFound"), target);
    expect(err.code).toBe("NotFound");
    expect(describeError(err)).toEqual({
      exitCode: EXIT_CODES.NotFound,
      message: "join token jt_1 does not exist",
    });
  });

  it.each([
    ["UNAUTHORIZED", "Unauthenticated"],
    ["FORBIDDEN", "PermissionDenied"],
    ["BAD_REQUEST", "InvalidArgument"],
    ["CONFLICT", "Conflict"],
    ["SERVICE_UNAVAILABLE", "Unavailable"],
    ["INTERNAL_SERVER_ERROR", "Internal"],
    ["SOMETHING_NEW", "Internal"],
  ])("falls back to tRPC's %s → %s", (trpcCode, code) => {
    expect(apiError(serverError("m", trpcCode, null), target).code).toBe(code);
  });

  it("tells a user with a rejected token to log in again", () => {
    const err = apiError(serverError("log in first", "UNAUTHORIZED", null), target);
    expect(describeError(err)).toEqual({
      exitCode: EXIT_CODES.Unauthenticated,
      message: "not logged in: http://berth.test did not accept the stored token; run `berth login`",
    });
    const fromEnv = apiError(serverError("log in first", "UNAUTHORIZED", null), {
      ...target,
      tokenSource: "BERTH_TOKEN",
    });
    expect(fromEnv.message).toContain("BERTH_TOKEN");
  });

  it("makes a zod issue list readable", () => {
    const issues = JSON.stringify([{ code: "too_big", path: ["ttlSeconds"], message: "Too big" }], null, 2);
    expect(apiError(serverError(issues, "BAD_REQUEST", "InvalidArgument"), target).message).toBe(
      "invalid input: ttlSeconds: Too big",
    );
  });

  it("turns a fetch failure into Unavailable with the address and a hint", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4"), { code: "ECONNREFUSED" });
    const err = apiError(TRPCClientError.from(new TypeError("fetch failed", { cause: refused })), target);
    expect(err.code).toBe("Unavailable");
    expect(describeError(err)).toEqual({
      exitCode: EXIT_CODES.Unavailable,
      message:
        "cannot reach the control plane at http://berth.test: connect ECONNREFUSED 127.0.0.1:4; is it running? set --server or BERTH_SERVER",
    });
  });
});

describe("guardedFetch", () => {
  it("reports a refused connection as Unavailable", async () => {
    const fetchIt = guardedFetch("http://127.0.0.1:9", 5000);
    const err = await fetchIt("http://127.0.0.1:9/api/trpc/x").catch((e: unknown) => e);
    expect((err as CliError).code).toBe("Unavailable");
    expect((err as CliError).message).toMatch(/^cannot reach the control plane at http:\/\/127\.0\.0\.1:9: /);
  });
});
