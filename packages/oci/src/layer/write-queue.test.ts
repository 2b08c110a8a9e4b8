import { describe, expect, it } from "vitest";
import { WriteQueue } from "./write-queue.ts";

const later = (ms: number, fail?: Error) =>
  new Promise<void>((resolve, reject) => setTimeout(() => (fail ? reject(fail) : resolve()), ms));

describe("WriteQueue", () => {
  it("sees a conflict at the path, above it and below it, not beside it", async () => {
    const q = new WriteQueue(8, 1 << 20);
    await q.add("/r/a/b", 1, () => later(20));
    expect(q.conflicts("/r/a/b")).toBe(true);
    expect(q.conflicts("/r/a")).toBe(true);
    expect(q.conflicts("/r/a/b/c")).toBe(true);
    expect(q.conflicts("/r/a/bc")).toBe(false);
    expect(q.conflicts("/r/x")).toBe(false);
    await q.drain();
    expect(q.conflicts("/r/a/b")).toBe(false);
  });

  it("keeps at most maxTasks in flight and throws the first failure on the next add or drain", async () => {
    const q = new WriteQueue(2, 1 << 20);
    let running = 0;
    let most = 0;
    const task = async () => {
      running++;
      most = Math.max(most, running);
      await later(5);
      running--;
    };
    for (let i = 0; i < 6; i++) await q.add(`/r/${i}`, 1, task);
    await q.drain();
    expect(most).toBe(2);
    await q.add("/r/bad", 1, () => later(1, new Error("disk full")));
    await expect(q.drain()).rejects.toThrow("disk full");
  });
});
