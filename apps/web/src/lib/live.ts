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
  return liveStatus(sub.status);
}

/** tRPC's subscription status as the live indicator shows it ("pending" means connected and waiting). */
function liveStatus(status: string): LiveStatus {
  return status === "pending" ? "live" : status === "error" ? "offline" : "connecting";
}

/**
 * Subscribe to registry changes (a push or delete in any repository, on any
 * replica) and refetch every registry query the page shows.
 */
export function useLiveRegistry() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sub = useSubscription(
    trpc.registry.watch.subscriptionOptions(undefined, {
      onData: () => void queryClient.invalidateQueries(trpc.registry.pathFilter()),
    }),
  );
  return liveStatus(sub.status);
}

/**
 * Subscribe to stack changes (a deploy, scale, rollback or removal, a task's
 * new state, a host's) and refetch the stack lists, pages and histories on
 * screen. Revision texts and their diffs never change, so they stay cached.
 */
export function useLiveStacks() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sub = useSubscription(
    trpc.stacks.watch.subscriptionOptions(undefined, {
      onData: () => {
        void queryClient.invalidateQueries(trpc.stacks.list.queryFilter());
        void queryClient.invalidateQueries(trpc.stacks.get.queryFilter());
        void queryClient.invalidateQueries(trpc.stacks.history.queryFilter());
        void queryClient.invalidateQueries(trpc.stacks.tasks.queryFilter());
      },
    }),
  );
  return liveStatus(sub.status);
}
