/**
 * What the task runner needs from a host: a container runtime, an image
 * store that can pull, and named volumes. The daemon's driver is the local
 * engine (runc, the image store, the registry client); hollow hosts use the
 * simulated runtime and a simulated image store (src/hollow/sim-host.ts).
 */
import type { RegistryClient } from "@berth/oci";
import { BerthError, isBerthError } from "@berth/protocol";
import type { ImageStore } from "../images/index.ts";
import { pullImage } from "../images/index.ts";
import type { ContainerRuntime } from "../runtime/types.ts";
import type { VolumeStore } from "../volumes/index.ts";

export interface TaskDriver {
  runtime: ContainerRuntime;
  hasImage(ref: string): Promise<boolean>;
  /** Fetch the image into the local store; throws a BerthError whose message says why it could not. */
  pull(ref: string): Promise<void>;
  /** Create the named volume when it does not exist yet. */
  ensureVolume(name: string, labels: Record<string, string>): Promise<void>;
  /**
   * True when `runtime.wait` costs nothing while it waits (the simulated
   * runtime): the runner then learns of an exit at once instead of at its
   * next look at the containers.
   */
  cheapWait: boolean;
}

export interface LocalDriverOptions {
  runtime: ContainerRuntime;
  images: ImageStore;
  volumes: VolumeStore;
  /** The client pulls go through (credentials, insecure registries). */
  registry: () => RegistryClient;
}

const DIGEST_ONLY = /^(sha256:)?[a-f0-9]{12,64}$/;

export function createLocalDriver(o: LocalDriverOptions): TaskDriver {
  return {
    runtime: o.runtime,
    cheapWait: false,
    async hasImage(ref) {
      return o.images.resolve(ref).then(
        () => true,
        (err: unknown) => {
          if (isBerthError(err) && err.code === "NotFound") return false;
          throw err;
        },
      );
    },
    async pull(ref) {
      if (DIGEST_ONLY.test(ref)) {
        throw new BerthError(
          "NotFound",
          `image ${ref} is not on this host, and a bare digest cannot be pulled`,
        );
      }
      await pullImage(o.images, ref, { client: o.registry() });
    },
    async ensureVolume(name, labels) {
      await o.volumes.create(name, { labels }).catch((err: unknown) => {
        if (!(isBerthError(err) && err.code === "Conflict")) throw err;
      });
    },
  };
}
