import { QueryCache, QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import type { AppRouter } from "../server/trpc/router.ts";
import { errorCode } from "./errors.ts";

const API_URL = "/api/trpc";

/** Queries and mutations are batched over HTTP; subscriptions use server-sent events. */
export function makeTrpcClient() {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url: API_URL }),
        false: httpBatchLink({ url: API_URL }),
      }),
    ],
  });
}

/** Client errors (4xx) are answers, not glitches: never retried. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  const code = errorCode(error);
  if (code && code !== "INTERNAL_SERVER_ERROR" && code !== "SERVICE_UNAVAILABLE") return false;
  return failureCount < 2;
}

/**
 * `onUnauthorized` runs when any query learns the session is gone (expired,
 * logged out in another tab) so the auth gate can send the user to /login.
 */
export function makeQueryClient(onUnauthorized: () => void) {
  return new QueryClient({
    queryCache: new QueryCache({
      onError: (error) => {
        if (errorCode(error) === "UNAUTHORIZED") onUnauthorized();
      },
    }),
    defaultOptions: {
      queries: { staleTime: 2_000, retry: shouldRetry, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
}
