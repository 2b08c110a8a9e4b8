// Errors of the OCI Distribution Spec, with their HTTP statuses and the standard JSON body.
// Local to @berth/oci: this package imports none of Berth's other packages.

export const registryErrorStatus = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
  UNKNOWN: 500,
} as const;

export type RegistryErrorCode = keyof typeof registryErrorStatus;

export interface RegistryErrorOptions {
  /** Overrides the code's usual HTTP status (e.g. 413 for an oversized manifest). */
  status?: number;
  /** Extra response headers, e.g. WWW-Authenticate on UNAUTHORIZED or Content-Range on a 416. */
  headers?: Record<string, string>;
  detail?: unknown;
  cause?: unknown;
}

/** An error a registry client sees as `{"errors":[{code,message,detail}]}` with the code's status. */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly detail: unknown;

  constructor(code: RegistryErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RegistryError";
    this.code = code;
    this.status = options.status ?? registryErrorStatus[code];
    this.headers = options.headers ?? {};
    this.detail = options.detail;
  }

  /** The standard error body. */
  toBody(): { errors: { code: string; message: string; detail?: unknown }[] } {
    const entry: { code: string; message: string; detail?: unknown } = {
      code: this.code,
      message: this.message,
    };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}

export function isRegistryError(error: unknown): error is RegistryError {
  return error instanceof RegistryError;
}
