import { EventEmitter, on } from "node:events";
import type { Change, ChangeFeed, ChangeTopic } from "@berth/control";

/**
 * Turn the change feed into an async iterable for a tRPC subscription. The
 * first item is sent at once so a client knows the stream is live; each later
 * item says what changed, and the client refetches it.
 */
export async function* watchTopics(
  feed: ChangeFeed,
  topics: ChangeTopic[],
  signal: AbortSignal | undefined,
): AsyncGenerator<Change> {
  const emitter = new EventEmitter();
  const unsubscribe = feed.subscribe((change) => {
    if (topics.includes(change.topic)) emitter.emit("change", change);
  });
  try {
    yield { topic: topics[0]! };
    for await (const [change] of on(emitter, "change", signal ? { signal } : {})) {
      yield change as Change;
    }
  } catch (err) {
    if ((err as Error).name !== "AbortError") throw err;
  } finally {
    unsubscribe();
  }
}
