import { OciError, type OciErrorCode } from "../errors.ts";

interface DistributionError {
  code?: string;
  message?: string;
}

/** A failed response: its status and its body as text (a fetch Response is one). */
export type FailedResponse = Pick<Response, "status" | "text">;

/** The first error of a distribution-spec error body, if the body is one. */
async function readErrorBody(res: FailedResponse): Promise<DistributionError | undefined> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { errors?: DistributionError[] };
    return body.errors?.[0];
  } catch {
    return undefined;
  }
}

function codeFor(status: number, registryCode: string | undefined): OciErrorCode {
  if (status === 404 || registryCode?.endsWith("_UNKNOWN")) return "NotFound";
  if (status === 401) return "Unauthenticated";
  if (status === 403) return "PermissionDenied";
  if (status === 429 || status >= 500) return "Unavailable";
  return "InvalidArgument";
}

/** An OciError for a failed registry response, naming the registry and what was asked. */
export async function responseError(res: FailedResponse, registry: string, what: string): Promise<OciError> {
  const body = await readErrorBody(res);
  const code = codeFor(res.status, body?.code);
  const detail = body ? `${body.code ?? ""}${body.message ? `: ${body.message}` : ""}` : `HTTP ${res.status}`;
  const hint =
    code === "Unauthenticated" ? " (give credentials)" : code === "PermissionDenied" ? " (no access)" : "";
  return new OciError(code, `${registry}: ${what}: ${detail}${hint}`);
}

export function networkError(err: unknown, registry: string, what: string): OciError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new OciError("Unavailable", `registry ${registry} unreachable (${what}): ${why}`, { cause: err });
}
