/**
 * Errors thrown by @berth/oci. The codes are Berth's closed set (the same as
 * `ERROR_CODES` in @berth/protocol); oci may import none of Berth's other
 * packages, so the set is repeated here and each edge converts an `OciError`
 * into its own error type by `code`.
 */
export const OCI_ERROR_CODES = [
  "NotFound",
  "Conflict",
  "InvalidArgument",
  "FailedPrecondition",
  "Unavailable",
  "Unauthenticated",
  "PermissionDenied",
  "Internal",
] as const;

export type OciErrorCode = (typeof OCI_ERROR_CODES)[number];

export class OciError extends Error {
  readonly code: OciErrorCode;

  constructor(code: OciErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OciError";
    this.code = code;
  }
}

export function isOciError(err: unknown): err is OciError {
  return err instanceof OciError;
}
