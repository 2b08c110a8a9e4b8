import { TRPCClientError } from "@trpc/client";

/** The tRPC error code of an API error (`FORBIDDEN`, `NOT_FOUND` …), or null for anything else. */
export function errorCode(error: unknown): string | null {
  if (error instanceof TRPCClientError) {
    const code = (error.data as { code?: unknown } | undefined)?.code;
    return typeof code === "string" ? code : null;
  }
  return null;
}

/** A message a user can act on. */
export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) {
    if (!error.data && error.message.toLowerCase().includes("fetch")) {
      return "cannot reach the Berth control plane; check that it is running";
    }
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
