import type { ErrorCode } from "@berth/protocol/errors";
import type { AppRouter } from "@berth/web/router";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { CliError } from "./errors.ts";

/** A typed client for the control plane's tRPC API. */
export type Api = ReturnType<typeof createTRPCClient<AppRouter>>;

export interface Target {
  /** Normalised control-plane URL, e.g. http://localhost:3000 */
  server: string;
  /** API token sent as `Authorization: Bearer`; none for `berth login`. */
  token?: string;
  /** Where the token came from, for the hint when the server rejects it. */
  tokenSource?: "BERTH_TOKEN" | "config";
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** tRPC's codes for errors that carry no Berth code (input validation, `authedProcedure`'s own checks). */
const FROM_TRPC_CODE: Record<string, ErrorCode> = {
  BAD_REQUEST: "InvalidArgument",
  PARSE_ERROR: "InvalidArgument",
  UNPROCESSABLE_CONTENT: "InvalidArgument",
  PAYLOAD_TOO_LARGE: "InvalidArgument",
  UNAUTHORIZED: "Unauthenticated",
  FORBIDDEN: "PermissionDenied",
  NOT_FOUND: "NotFound",
  CONFLICT: "Conflict",
  PRECONDITION_FAILED: "FailedPrecondition",
  TOO_MANY_REQUESTS: "Unavailable",
  SERVICE_UNAVAILABLE: "Unavailable",
  BAD_GATEWAY: "Unavailable",
  GATEWAY_TIMEOUT: "Unavailable",
  TIMEOUT: "Unavailable",
  CLIENT_CLOSED_REQUEST: "Unavailable",
};

export function createApi(target: Target, options: { timeoutMs?: number } = {}): Api {
  const headers: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${target.server}/api/trpc`,
        headers,
        fetch: guardedFetch(target.server, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      }),
    ],
  });
}

/**
 * `fetch` that turns "no answer" into an Unavailable error a user can act on:
 * nothing listening, a DNS failure, a timeout, or something that is not a
 * Berth control plane answering (an HTML page, a proxy's error).
 */
export function guardedFetch(server: string, timeoutMs: number) {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(input, { ...init, signal });
    } catch (err) {
      throw unreachable(server, fetchFailure(err, server, timeout.aborted, timeoutMs), err);
    }
    const type = res.headers.get("content-type") ?? "";
    if (!type.includes("application/json")) {
      await res.body?.cancel();
      const shown = type ? `, ${type.split(";")[0]}` : "";
      throw new CliError(
        "Unavailable",
        `${server} did not answer like a Berth control plane (HTTP ${res.status}${shown})`,
        { hint: "check --server or BERTH_SERVER" },
      );
    }
    return res;
  };
}

function fetchFailure(err: unknown, server: string, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer after ${Math.round(timeoutMs / 1000)}s`;
  const detail = networkDetail(err);
  // undici refuses the fetch standard's "bad ports" (1, 22, 25, ...) without trying them.
  if (detail === "bad port") return `port ${new URL(server).port} is reserved, and fetch will not use it`;
  return detail;
}

export function unreachable(server: string, detail: string, cause?: unknown): CliError {
  return new CliError("Unavailable", `cannot reach the control plane at ${server}: ${detail}`, {
    hint: "is it running? set --server or BERTH_SERVER",
    cause,
  });
}

/** The most useful words in a fetch failure: undici hides the socket error in `cause`. */
export function networkDetail(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (e instanceof AggregateError && e.errors.length > 0) e = e.errors[0];
    else if (e.cause instanceof Error) e = e.cause;
    else break;
  }
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (e.message) return e.message;
    if (code) return code;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A zod error from the server arrives as the JSON text of its issues; make it one readable line. */
function readableMessage(message: string): string {
  if (!message.trimStart().startsWith("[")) return message;
  try {
    const issues = JSON.parse(message) as Array<{ path?: unknown[]; message?: string }>;
    if (!Array.isArray(issues) || issues.length === 0) return message;
    const parts = issues.map((i) =>
      i.path?.length ? `${i.path.join(".")}: ${i.message}` : String(i.message),
    );
    return `invalid input: ${parts.join("; ")}`;
  } catch {
    return message;
  }
}

/** Convert whatever an API call threw into a CliError, once, at the edge. */
export function apiError(err: unknown, target: Target): CliError {
  if (err instanceof CliError) return err;
  if (!(err instanceof TRPCClientError)) {
    return new CliError("Internal", err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (err.cause instanceof CliError) return err.cause;
  const data = err.data as { code?: string; berthCode?: ErrorCode | null } | undefined;
  if (!data) {
    // No tRPC error shape: the request never got a proper answer.
    return unreachable(target.server, networkDetail(err.cause ?? err), err);
  }
  const code: ErrorCode = data.berthCode ?? FROM_TRPC_CODE[data.code ?? ""] ?? "Internal";
  const message = readableMessage(err.message);
  if (code === "Unauthenticated" && target.token) {
    const fromEnv = target.tokenSource === "BERTH_TOKEN";
    return new CliError(
      code,
      `not logged in: ${target.server} did not accept the ${fromEnv ? "BERTH_TOKEN" : "stored"} token`,
      {
        hint: fromEnv ? "check BERTH_TOKEN, or unset it and run `berth login`" : "run `berth login`",
        cause: err,
      },
    );
  }
  if (code === "Internal") return new CliError(code, `the control plane failed: ${message}`, { cause: err });
  return new CliError(code, message, { cause: err });
}

/** Make one API call, converting its failure into a CliError. */
export async function call<T>(target: Target, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    throw apiError(err, target);
  }
}
