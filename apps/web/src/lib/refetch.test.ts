import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it } from "vitest";
import { refetchAfterChange } from "./refetch.ts";

/** A server whose reads answer after `delayMs` with what it held when the read began. */
function slowServer(delayMs: number) {
  const server = { value: "before", reads: 0 };
  const read = async () => {
    server.reads++;
    const seen = server.value;
    await new Promise((r) => setTimeout(r, delayMs));
    return seen;
  };
  return { server, read };
}

describe("refetchAfterChange", () => {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  afterEach(() => client.clear());

  /** Start a query with an observer (as a page on screen has) and wait until its first read began. */
  async function watched(key: string, read: () => Promise<string>) {
    const observer = new QueryObserver(client, { queryKey: [key], queryFn: read });
    const results: string[] = [];
    const unsubscribe = observer.subscribe((r) => {
      if (r.data !== undefined) results.push(r.data);
    });
    await new Promise((r) => setTimeout(r, 5));
    return { observer, results, unsubscribe };
  }

  it("a change during a page's first load is not lost to that load's stale answer", async () => {
    const { server, read } = slowServer(50);
    const { observer, unsubscribe } = await watched("first-load", read);
    expect(server.reads).toBe(1);
    server.value = "after";
    await refetchAfterChange(client, [{ queryKey: ["first-load"] }]);
    await expect.poll(() => observer.getCurrentResult().data).toBe("after");
    expect(server.reads).toBe(2);
    unsubscribe();
  });

  it("a change during a refetch restarts it", async () => {
    const { server, read } = slowServer(50);
    const { observer, unsubscribe } = await watched("refetch", read);
    await expect.poll(() => observer.getCurrentResult().data).toBe("before");
    void observer.refetch();
    await new Promise((r) => setTimeout(r, 5));
    server.value = "after";
    await refetchAfterChange(client, [{ queryKey: ["refetch"] }]);
    await expect.poll(() => observer.getCurrentResult().data).toBe("after");
    unsubscribe();
  });

  it("refetches only what matches, and only what is on screen", async () => {
    const a = slowServer(1);
    const b = slowServer(1);
    const shown = await watched("shown", a.read);
    const other = await watched("other", b.read);
    await expect.poll(() => shown.observer.getCurrentResult().data).toBe("before");
    await expect.poll(() => other.observer.getCurrentResult().data).toBe("before");
    shown.unsubscribe();
    // "shown" is no longer on screen: marked stale, not fetched; "other" does not match.
    await refetchAfterChange(client, [{ queryKey: ["shown"] }]);
    expect(a.server.reads).toBe(1);
    expect(b.server.reads).toBe(1);
    expect(client.getQueryState(["shown"])?.isInvalidated).toBe(true);
    other.unsubscribe();
  });
});
