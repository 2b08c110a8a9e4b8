import { type QueryFilters, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { refetchAfterChange } from "./refetch.ts";
import { useTRPC } from "./trpc.ts";

export type LiveStatus = "live" | "connecting" | "offline";

/**
 * Subscribe to host changes and refetch what the page shows on each one
 * (every host query, plus the queries `also` names). The first item arrives
 * at once, which also refreshes anything missed while disconnected.
 */
export function useLiveHosts(also: QueryFilters[] = []) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sub = useSubscription(
    trpc.hosts.watch.subscriptionOptions(undefined, {
      onData: () => void refetchAfterChange(queryClient, [trpc.hosts.pathFilter(), ...also]),
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
      onData: () => void refetchAfterChange(queryClient, [trpc.registry.pathFilter()]),
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
      onData: () =>
        void refetchAfterChange(queryClient, [
          trpc.stacks.list.queryFilter(),
          trpc.stacks.get.queryFilter(),
          trpc.stacks.history.queryFilter(),
          trpc.stacks.tasks.queryFilter(),
        ]),
    }),
  );
  return liveStatus(sub.status);
}
