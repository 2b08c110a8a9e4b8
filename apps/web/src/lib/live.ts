import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "./trpc.ts";

export type LiveStatus = "live" | "connecting" | "offline";

/**
 * Subscribe to host changes and refetch what the page shows on each one
 * (every host query, plus whatever `alsoInvalidate` names). The first item
 * arrives at once, which also refreshes anything missed while disconnected.
 */
export function useLiveHosts(alsoInvalidate?: (queryClient: ReturnType<typeof useQueryClient>) => void) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sub = useSubscription(
    trpc.hosts.watch.subscriptionOptions(undefined, {
      onData: () => {
        void queryClient.invalidateQueries(trpc.hosts.pathFilter());
        alsoInvalidate?.(queryClient);
      },
    }),
  );
  const status: LiveStatus =
    sub.status === "pending" ? "live" : sub.status === "error" ? "offline" : "connecting";
  return status;
}
