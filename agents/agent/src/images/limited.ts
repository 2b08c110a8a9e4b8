/**
 * Runs `work` over `items`, at most `limit` at a time, and resolves with the
 * results in the items' order. After a failure no further item starts and
 * `signal` (given to every call) is aborted with the failure, so work that
 * listens can stop early; the calls already started are waited for (so the
 * caller may clean up what they write), then the first failure is thrown.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const failed = new AbortController();
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && !failure) {
      const at = next++;
      try {
        results[at] = await work(items[at]!, failed.signal);
      } catch (error) {
        if (!failure) {
          failure = { error };
          failed.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}
