import type { AgentGateway, ChangeFeed, LeaderElection, Principal } from "@berth/control";
import type { Database } from "@berth/db";
import type { BlobStore } from "@berth/oci";
import { BerthError, type ErrorCode, isBerthError } from "@berth/protocol";
import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

export interface ControlPlane {
  database: Database;
  feed: ChangeFeed;
  gateway: AgentGateway;
  version: string;
  /** True when session cookies should carry `Secure`. */
  secureCookies: boolean;
  /** This replica's part in the leader election (the node monitor and registry GC run on the leader). */
  leader?: LeaderElection;
  /** The built-in registry's blobs, for the dashboard to read manifests; absent without a registry. */
  registryBlobs?: BlobStore;
}

export interface Context {
  cp: ControlPlane;
  principal: Principal | null;
  sessionToken: string | null;
  /** The API token of this request, when it came with one. */
  bearerToken: string | null;
  setCookie(value: string): void;
  clientIp: string | null;
}

const TRPC_CODES: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  NotFound: "NOT_FOUND",
  Conflict: "CONFLICT",
  InvalidArgument: "BAD_REQUEST",
  FailedPrecondition: "PRECONDITION_FAILED",
  Unavailable: "SERVICE_UNAVAILABLE",
  Unauthenticated: "UNAUTHORIZED",
  PermissionDenied: "FORBIDDEN",
  Internal: "INTERNAL_SERVER_ERROR",
};

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const berthCode: ErrorCode | null = isBerthError(cause)
      ? cause.code
      : error.code === "BAD_REQUEST"
        ? "InvalidArgument"
        : null;
    return { ...shape, data: { ...shape.data, stack: undefined, berthCode } };
  },
});

/** Converts domain errors to tRPC errors once, keeping the cause. */
const berthErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isBerthError(result.error.cause)) {
    const cause = result.error.cause;
    throw new TRPCError({ code: TRPC_CODES[cause.code], message: cause.message, cause });
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(berthErrors);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.principal) {
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: "log in first",
      cause: new BerthError("Unauthenticated", "log in first"),
    });
  }
  return next({ ctx: { ...ctx, principal: ctx.principal } });
});

/** Fleet administration (join tokens, users): team owners and admins. */
export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.principal.role !== "owner" && ctx.principal.role !== "admin") {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: `the ${ctx.principal.role} role cannot do this; ask an admin`,
    });
  }
  return next();
});
