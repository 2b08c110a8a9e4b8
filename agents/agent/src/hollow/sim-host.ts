/**
 * A simulated host for hollow agents and tests: the simulated runtime, an
 * in-memory image store whose pull is a short delay (no network), and
 * in-memory volumes — a TaskDriver costing a few kilobytes per host.
 *
 * The simulated registry has every image except those whose name says it
 * does not exist: a repository or tag containing `missing`, `notfound` or
 * `does-not-exist` (for failure tests), and references that do not parse.
 */
import { BerthError } from "@berth/protocol";
import { parseImageRef } from "../images/reference.ts";
import { realClock, type SimClock } from "../runtime/sim/clock.ts";
import { createSimulatedRuntime, type SimImage, type SimulatedRuntime } from "../runtime/sim/runtime.ts";
import type { TaskDriver } from "../tasks/driver.ts";

export interface SimHostOptions {
  clock?: SimClock;
  /** How long a pull takes (default 200 ms). */
  pullDelayMs?: number;
  /** Images present from the start. */
  images?: string[];
  /** Whether the simulated registry has `ref` (default: the rule above). */
  registryHas?: (ref: string) => boolean;
}

export interface SimHost {
  runtime: SimulatedRuntime;
  driver: TaskDriver;
  readonly images: ReadonlySet<string>;
  readonly volumes: ReadonlySet<string>;
  readonly pulls: number;
}

const ABSENT = /missing|notfound|does-not-exist/i;

export function simulatedRegistryHas(ref: string): boolean {
  try {
    parseImageRef(ref);
  } catch {
    return false;
  }
  return !ABSENT.test(ref);
}

export function createSimHost(o: SimHostOptions = {}): SimHost {
  const clock = o.clock ?? realClock;
  // The runtime reads this record at create time, so a pull makes the image usable.
  const images: Record<string, SimImage> = {};
  for (const ref of o.images ?? []) images[ref] = {};
  const volumes = new Set<string>();
  const has = o.registryHas ?? simulatedRegistryHas;
  let pulls = 0;
  const runtime = createSimulatedRuntime({ clock, images });
  const driver: TaskDriver = {
    runtime,
    cheapWait: true,
    hasImage: async (ref) => Object.hasOwn(images, ref),
    pull: (ref) =>
      new Promise<void>((resolve, reject) => {
        pulls++;
        clock.setTimeout(() => {
          if (!has(ref)) {
            reject(
              new BerthError("NotFound", `manifest unknown: the registry has no image ${ref} (simulated)`),
            );
          } else {
            images[ref] = {};
            resolve();
          }
        }, o.pullDelayMs ?? 200);
      }),
    ensureVolume: async (name) => {
      volumes.add(name);
    },
  };
  return {
    runtime,
    driver,
    get images() {
      return new Set(Object.keys(images));
    },
    volumes,
    get pulls() {
      return pulls;
    },
  };
}
