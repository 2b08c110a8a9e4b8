import type { QueryClient, QueryFilters } from "@tanstack/react-query";

/**
 * Refetch every query matching `filters` because the server says something
 * changed. A fetch already in flight may have read the server before the
 * change, and TanStack Query restarts such a fetch only when its query
 * already has data: a page's first load would keep what it read before the
 * change. So fetches in flight are cancelled first, then everything matching
 * is invalidated (and refetched if on screen).
 */
export async function refetchAfterChange(queryClient: QueryClient, filters: QueryFilters[]): Promise<void> {
  await Promise.all(filters.map((f) => queryClient.cancelQueries(f)));
  await Promise.all(filters.map((f) => queryClient.invalidateQueries(f)));
}
