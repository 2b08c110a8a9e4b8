/**
 * The closed set of error codes every Berth component speaks. Domain code
 * throws `BerthError`; each edge converts it once: to a tRPC error in the API,
 * to an `error` frame on the agent socket, to an exit code in the CLIs.
 *
 * `Unauthenticated` is kept apart from `PermissionDenied` (as gRPC does) so a
 * client knows whether logging in again could help.
 */
export const ERROR_CODES = [
  "NotFound",
  "Conflict",
  "InvalidArgument",
  "FailedPrecondition",
  "Unavailable",
  "Unauthenticated",
  "PermissionDenied",
  "Internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class BerthError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BerthError";
    this.code = code;
  }
}

export function isBerthError(err: unknown): err is BerthError {
  return err instanceof BerthError;
}

/** Exit codes the CLIs use, one per error code (0 is success, 1 is a usage error). */
export const EXIT_CODES: Record<ErrorCode, number> = {
  InvalidArgument: 2,
  NotFound: 3,
  Conflict: 4,
  FailedPrecondition: 5,
  Unauthenticated: 6,
  PermissionDenied: 7,
  Unavailable: 8,
  Internal: 9,
};
