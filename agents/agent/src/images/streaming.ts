import { withGcHeadroom } from "@berth/oci";
import { withHelperThreadsLowered } from "./helper-threads.ts";

/**
 * What a pull, a load, a push and a save run under, each of which streams a
 * whole image through the main thread: the process's helper threads yield the core to it
 * (withHelperThreadsLowered), and V8 leaves the Buffers in flight room before
 * it collects the whole heap (withGcHeadroom).
 */
export function whileStreamingImage<T>(fn: () => Promise<T>): Promise<T> {
  return withHelperThreadsLowered(() => withGcHeadroom(fn));
}
