import { mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { readJson, withLockFile, writeFileAtomic } from "../images/atomic.ts";

/** Docker's rule for volume names. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const MAX_NAME = 128;

export interface Volume {
  name: string;
  /** The host directory mounted into containers: <stateDir>/volumes/<name>/_data. */
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
}

export interface VolumeStore {
  /** <stateDir>/volumes */
  readonly root: string;
  /** Create a volume; Conflict when it exists. */
  create(name: string, options?: { labels?: Record<string, string> }): Promise<Volume>;
  /** The volume, created when missing (a container's first use, as in Docker). */
  ensure(name: string): Promise<Volume>;
  inspect(name: string): Promise<Volume>;
  list(): Promise<Volume[]>;
  /** Delete a volume and its data; FailedPrecondition while a container uses it. */
  remove(name: string, options: { inUse: (name: string) => boolean | Promise<boolean> }): Promise<void>;
}

export function validateVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name) || name.length > MAX_NAME) {
    throw new BerthError(
      "InvalidArgument",
      `volume name "${name}" must be 2 to ${MAX_NAME} characters of letters, digits, "_", "." and "-", starting with a letter or digit`,
    );
  }
}

/** Named volumes under `<stateDir>/volumes/<name>/_data`, with metadata beside the data in volume.json. */
export function createVolumeStore(stateDir: string): VolumeStore {
  const root = path.join(stateDir, "volumes");
  const lockFile = path.join(root, ".lock");
  const volumeDir = (name: string) => path.join(root, name);
  const metaFile = (name: string) => path.join(volumeDir(name), "volume.json");

  async function read(name: string): Promise<Volume | null> {
    validateVolumeName(name);
    return readJson<Volume | null>(metaFile(name), null);
  }

  async function make(name: string, labels: Record<string, string>): Promise<Volume> {
    const volume: Volume = {
      name,
      mountpoint: path.join(volumeDir(name), "_data"),
      createdAt: new Date().toISOString(),
      labels: { ...labels },
    };
    await mkdir(volume.mountpoint, { recursive: true, mode: 0o755 });
    await writeFileAtomic(metaFile(name), JSON.stringify(volume, null, 2));
    return volume;
  }

  const locked = async <T>(fn: () => Promise<T>) => {
    await mkdir(root, { recursive: true, mode: 0o700 });
    return withLockFile(lockFile, fn);
  };

  return {
    root,
    async create(name, options = {}) {
      validateVolumeName(name);
      return locked(async () => {
        if (await read(name)) throw new BerthError("Conflict", `volume "${name}" already exists`);
        return make(name, options.labels ?? {});
      });
    },

    async ensure(name) {
      const existing = await read(name);
      if (existing) return existing;
      return locked(async () => (await read(name)) ?? make(name, {}));
    },

    async inspect(name) {
      const volume = await read(name);
      if (!volume) throw new BerthError("NotFound", `no volume "${name}"`);
      return volume;
    },

    async list() {
      const entries = await readdir(root).catch(() => [] as string[]);
      const volumes = await Promise.all(
        entries.filter((e) => VOLUME_NAME.test(e) && e.length <= MAX_NAME).map((e) => read(e)),
      );
      return volumes.filter((v): v is Volume => v !== null).sort((a, b) => a.name.localeCompare(b.name));
    },

    async remove(name, options) {
      validateVolumeName(name);
      await locked(async () => {
        if (!(await read(name))) throw new BerthError("NotFound", `no volume "${name}"`);
        if (await options.inUse(name)) {
          throw new BerthError(
            "FailedPrecondition",
            `volume "${name}" is in use by a container; remove the container first`,
          );
        }
        const doomed = path.join(root, `.deleted-${name}-${Date.now()}`);
        await rename(volumeDir(name), doomed);
        await rm(doomed, { recursive: true, force: true });
      });
    },
  };
}
