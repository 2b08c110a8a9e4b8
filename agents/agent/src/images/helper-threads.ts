import { readdirSync } from "node:fs";
import os from "node:os";
import { isMainThread } from "node:worker_threads";

/**
 * The nice value this process's other threads get while a pull runs. Those
 * threads are libuv's thread pool (gunzip, async file calls) and V8's helpers
 * (garbage collection); the main thread hashes, parses the tar and writes every
 * file, so it is the pull's critical path. On a small machine a woken helper
 * would otherwise preempt the main thread on its own core: measured on the
 * pull bench (two cores, interleaved runs), +10 made pulls 10–15% faster.
 * Helpers still get the whole of an idle core; nice only decides who yields
 * when both want the same one.
 */
export const HELPER_NICE = 10;

let holders = 0;
/** Each lowered thread's nice value before, to put back when the last holder is done. */
let saved = new Map<number, number>();

/** This process's threads other than the main one (Linux: /proc/self/task); none elsewhere. */
function helperThreads(): number[] {
  try {
    return readdirSync("/proc/self/task")
      .map(Number)
      .filter((tid) => tid !== process.pid);
  } catch {
    return [];
  }
}

function lower(): Map<number, number> {
  const before = new Map<number, number>();
  for (const tid of helperThreads()) {
    try {
      const nice = os.getPriority(tid);
      if (nice >= HELPER_NICE) continue;
      os.setPriority(tid, HELPER_NICE);
      before.set(tid, nice);
    } catch {
      // The thread ended meanwhile, or the system refuses: it keeps its priority.
    }
  }
  return before;
}

function restore(before: Map<number, number>): void {
  for (const [tid, nice] of before) {
    try {
      os.setPriority(tid, nice);
    } catch {
      // Gone, or not allowed: only root may lower a nice value again.
    }
  }
}

/**
 * Runs `fn` with this process's helper threads at HELPER_NICE (see there),
 * then gives them back their priority. Calls may overlap: the threads are
 * lowered by the first and restored by the last. Does nothing off the main
 * thread (the "other threads" would include the main one) or without /proc.
 */
export async function withHelperThreadsLowered<T>(fn: () => Promise<T>): Promise<T> {
  if (!isMainThread) return fn();
  holders += 1;
  if (holders === 1) saved = lower();
  try {
    return await fn();
  } finally {
    holders -= 1;
    if (holders === 0) {
      restore(saved);
      saved = new Map();
    }
  }
}
