import v8 from "node:v8";
import { isMainThread } from "node:worker_threads";

/**
 * V8's heap growing factor, as a percentage over the live heap (V8's flag
 * `--heap-growing-percent`), while a process streams image data: the agent's
 * pulls and loads, the registry's blob uploads and downloads.
 *
 * A pull or load moves every byte through short-lived Buffers: a network read,
 * a joined piece for gunzip, gunzip's output — about 1 GB of them for a 300 MB
 * image. V8 counts Buffer memory against the old generation's limit, which it
 * sets from the live JavaScript heap: ~11 MB in the agent, so a limit of ~30 MB.
 * The buffers in flight and not yet collected (~35 MB) keep crossing it, and
 * V8 ran a full mark-compact every 50 ms: 30 to 44 of them in one pull, with
 * their concurrent marking on the second core. At 1000% (eleven times the live
 * heap) a pull or load of the bench image does one (400% was enough there;
 * 200% was not), and pulls took 15% less time in interleaved runs. The
 * process's peak RSS was the same (~125 MB): the buffers are still freed by
 * the young generation's scavenges, as they were. The control plane (~30 MB
 * live) did 27 mark-compacts for one push and one pull of that image.
 */
export const STREAMING_HEAP_GROWING_PERCENT = 1000;

/** V8's default: 0, the factor it works out from its own measurements. */
const DEFAULT_HEAP_GROWING_PERCENT = 0;

let holders = 0;

/** Set on Node's command line (`node --heap-growing-percent=N`): then it is the operator's to choose. */
const chosenOnCommandLine = () => process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent/.test(arg));

/**
 * Runs `fn` with V8's heap growing factor at STREAMING_HEAP_GROWING_PERCENT
 * (see there), then gives V8 its own factor back; the limit it works out at
 * the next full collection is the usual one. Calls may overlap: the first sets
 * the factor and the last puts it back. V8 flags belong to the whole process,
 * so only the main thread changes it, and never when it was set on Node's
 * command line.
 */
export async function withGcHeadroom<T>(fn: () => Promise<T>): Promise<T> {
  if (!isMainThread || chosenOnCommandLine()) return fn();
  holders += 1;
  if (holders === 1) v8.setFlagsFromString(`--heap-growing-percent=${STREAMING_HEAP_GROWING_PERCENT}`);
  try {
    return await fn();
  } finally {
    holders -= 1;
    if (holders === 0) v8.setFlagsFromString(`--heap-growing-percent=${DEFAULT_HEAP_GROWING_PERCENT}`);
  }
}
