import { isBerthError } from "@berth/protocol";
import type { ImageConfig, ImageRecord, ImageStore, ResolvedImage } from "../images/index.ts";
import { type BuildState, type ContainerDefaults, envMap, type HistoryEntry } from "./image-config.ts";
import type { BuildBlobs } from "./layer/blobs.ts";

/** The store's view of a config (what `run` reads). */
export function toStoreConfig(c: ContainerDefaults, defaultPath: string): ImageConfig {
  const env = [...(c.Env ?? [])];
  if (!envMap(env).has("PATH")) env.unshift(`PATH=${defaultPath}`);
  return {
    env,
    cmd: c.Cmd && c.Cmd.length > 0 ? [...c.Cmd] : null,
    entrypoint: c.Entrypoint && c.Entrypoint.length > 0 ? [...c.Entrypoint] : null,
    workdir: c.WorkingDir || null,
    user: c.User || null,
  };
}

function fromStoreConfig(c: ImageConfig): ContainerDefaults {
  return {
    Env: [...c.env],
    ...(c.cmd ? { Cmd: [...c.cmd] } : {}),
    ...(c.entrypoint ? { Entrypoint: [...c.entrypoint] } : {}),
    ...(c.workdir ? { WorkingDir: c.workdir } : {}),
    ...(c.user ? { User: c.user } : {}),
  };
}

interface FullConfig {
  author?: string;
  config?: ContainerDefaults;
  history?: HistoryEntry[];
}

/** A blob's bytes, from the build's blobs or the image store's content. */
type ReadBlob = (digest: string) => Promise<Buffer | null>;

/**
 * The OCI config of an image this builder made, or (given the store) of one pulled or loaded
 * with its content; null when neither has its manifest.
 */
async function fullConfig(digest: string, blobs: BuildBlobs, store?: ImageStore): Promise<FullConfig | null> {
  for (const read of [blobs.readBlob, ...(store ? [store.blobs.read] : [])] as ReadBlob[]) {
    const config = await configIn(digest, read);
    if (config) return config;
  }
  return null;
}

async function configIn(digest: string, read: ReadBlob): Promise<FullConfig | null> {
  const manifest = await read(digest);
  if (!manifest) return null;
  try {
    const { config } = JSON.parse(manifest.toString("utf8")) as { config?: { digest?: string } };
    const bytes = config?.digest ? await read(config.digest) : null;
    return bytes ? (JSON.parse(bytes.toString("utf8")) as FullConfig) : null;
  } catch {
    return null;
  }
}

/** The build state an image in the store starts a stage with: its full config and history when known. */
export async function stateFromImage(
  record: ImageRecord,
  blobs: BuildBlobs,
  store?: ImageStore,
): Promise<BuildState> {
  const full = await fullConfig(record.digest, blobs, store);
  if (full?.config) {
    return {
      layers: [...record.layers],
      size: record.size,
      config: full.config,
      history: full.history ?? [],
      ...(full.author ? { author: full.author } : {}),
    };
  }
  // Imported (or kept without content): only the store's config is known; one history entry per layer.
  return {
    layers: [...record.layers],
    size: record.size,
    config: fromStoreConfig(record.config),
    history: record.layers.map(() => ({ created_by: `base image ${record.names[0] ?? record.digest}` })),
  };
}

/** The image `ref` from the store, pulling it (through `pull`) when it is not there. */
export async function findImage(
  store: ImageStore,
  ref: string,
  pull: (ref: string) => Promise<void>,
): Promise<ImageRecord> {
  try {
    return await store.inspect(ref);
  } catch (err) {
    if (!isBerthError(err) || err.code !== "NotFound") throw err;
  }
  await pull(ref);
  return store.inspect(ref);
}

/** The store's leases (when it has them): keep images and layers from the garbage collector. */
interface Holds {
  holdImages<T>(refs: string[], fn: (records: ImageRecord[]) => Promise<T>): Promise<T>;
  holdLayers<T>(diffIds: string[], fn: () => Promise<T>): Promise<T>;
}

/**
 * The image store as the build's runtime sees it: the real store, plus
 * each RUN step's root registered under a throwaway reference, so the
 * steps' roots never become images of their own. A container created from
 * one holds its layers (not an image) while it is made.
 */
export function withBuildRoots(store: ImageStore): {
  images: ImageStore;
  register(ref: string, image: ResolvedImage, layers: string[]): void;
  unregister(ref: string): void;
} {
  const roots = new Map<string, { image: ResolvedImage; record: ImageRecord }>();
  const holds = store as unknown as Partial<Holds>;
  const images: ImageStore & Partial<Holds> = {
    ...store,
    async resolve(ref) {
      return roots.get(ref)?.image ?? store.resolve(ref);
    },
  };
  if (holds.holdImages && holds.holdLayers) {
    const { holdImages, holdLayers } = holds as Holds;
    images.holdImages = <T>(refs: string[], fn: (records: ImageRecord[]) => Promise<T>) => {
      const own = refs.map((r) => roots.get(r)?.record);
      if (own.some((r) => r === undefined)) return holdImages(refs, fn);
      const records = own as ImageRecord[];
      return holdLayers(
        records.flatMap((r) => r.layers),
        () => fn(records),
      );
    };
  }
  return {
    images,
    register(ref, image, layers) {
      const record: ImageRecord = {
        digest: ref,
        names: [],
        layers,
        config: image.config,
        createdAt: new Date().toISOString(),
        size: 0,
      };
      roots.set(ref, { image, record });
    },
    unregister: (ref) => roots.delete(ref),
  };
}
