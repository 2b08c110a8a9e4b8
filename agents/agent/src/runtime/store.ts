import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { readJson, withLockFile, writeFileAtomic } from "../images/atomic.ts";
import type { ContainerInfo } from "./types.ts";

/**
 * What the agent keeps about a container, in
 * `<stateDir>/containers/<id>/container.json`. Every process that touches
 * containers — the daemon, the CLI, the exit handler conmon runs — reads and
 * writes these records under a per-container lock, so they can work at once.
 */
export interface ContainerRecord extends ContainerInfo {
  /** Position in the current run of quick restarts (the back-off grows with it). */
  backoffAttempt: number | null;
  /** Set by stop/kill: restart policies other than `always` leave the container stopped. */
  stoppedByUser: boolean;
  cgroupsPath: string;
  /** Why the last start failed, if it did. */
  error: string | null;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function validateName(name: string): void {
  if (!NAME.test(name)) {
    throw new BerthError(
      "InvalidArgument",
      `invalid container name "${name}": use letters, digits, '_', '.' and '-', starting with a letter or digit`,
    );
  }
}

const ADJECTIVES = [
  "brave",
  "calm",
  "eager",
  "fond",
  "keen",
  "lucid",
  "merry",
  "noble",
  "quiet",
  "swift",
  "tidy",
  "witty",
];
const NOUNS = [
  "anchor",
  "buoy",
  "cove",
  "dock",
  "harbor",
  "jetty",
  "keel",
  "mast",
  "pier",
  "quay",
  "tide",
  "wharf",
];

export function generateName(): string {
  const [a, b, n] = randomBytes(3);
  return `${ADJECTIVES[a! % ADJECTIVES.length]}_${NOUNS[b! % NOUNS.length]}_${n! % 100}`;
}

/** The container locks the current call chain holds. */
const heldLocks = new AsyncLocalStorage<ReadonlySet<string>>();

export interface ContainerStore {
  readonly root: string;
  dir(id: string): string;
  /** Claim a name for an id; Conflict when another container has it. */
  reserveName(name: string, id: string): Promise<void>;
  releaseName(name: string, id: string): Promise<void>;
  create(record: ContainerRecord): Promise<void>;
  read(id: string): Promise<ContainerRecord>;
  /** Read-modify-write under the container's lock. */
  update(
    id: string,
    change: (record: ContainerRecord) => ContainerRecord | Promise<ContainerRecord>,
  ): Promise<ContainerRecord>;
  /** Hold the container's lock for a whole operation (start, stop, reap …). */
  locked<T>(id: string, fn: () => Promise<T>): Promise<T>;
  list(): Promise<ContainerRecord[]>;
  /** Find by full id, name, or unique id prefix. */
  resolve(idOrName: string): Promise<ContainerRecord>;
  delete(id: string): Promise<void>;
}

export function createContainerStore(stateDir: string): ContainerStore {
  const root = path.join(stateDir, "containers");
  const namesDir = path.join(root, ".names");
  const dir = (id: string) => path.join(root, id);
  const recordFile = (id: string) => path.join(dir(id), "container.json");
  const lockFile = (id: string) => path.join(dir(id), ".lock");
  async function locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    // Re-entrant along one call chain (update() inside locked() must not
    // deadlock), exclusive between chains, in this process as in others.
    const mine = heldLocks.getStore();
    if (mine?.has(id)) return fn();
    try {
      return await withLockFile(lockFile(id), () => heldLocks.run(new Set([...(mine ?? []), id]), fn));
    } catch (err) {
      // The container's directory is gone: it was removed meanwhile.
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && !existsSync(dir(id))) {
        throw new BerthError("NotFound", `no such container: ${id}`, { cause: err });
      }
      throw err;
    }
  }

  async function read(id: string): Promise<ContainerRecord> {
    const record = await readJson<ContainerRecord | null>(recordFile(id), null);
    if (!record) throw new BerthError("NotFound", `no such container: ${id}`);
    return record;
  }

  async function list(): Promise<ContainerRecord[]> {
    let entries: string[];
    try {
      entries = await readdir(root);
    } catch {
      return [];
    }
    const records = await Promise.all(
      entries.filter((e) => /^[0-9a-f]{64}$/.test(e)).map((id) => read(id).catch(() => null)),
    );
    return records.filter((r): r is ContainerRecord => r !== null);
  }

  return {
    root,
    dir,
    async reserveName(name, id) {
      validateName(name);
      await mkdir(namesDir, { recursive: true, mode: 0o700 });
      const file = path.join(namesDir, name);
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const handle = await open(file, "wx", 0o600);
          await handle.writeFile(id);
          await handle.close();
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
          // A name left by a container that no longer exists is free again.
          const owner = (await readFile(file, "utf8").catch(() => "")).trim();
          const alive = owner
            ? await read(owner).then(
                () => true,
                () => false,
              )
            : false;
          if (alive) {
            throw new BerthError(
              "Conflict",
              `the name "${name}" is already used by container ${owner.slice(0, 12)}: remove it or choose another name`,
            );
          }
          await unlink(file).catch(() => {});
        }
      }
      throw new BerthError("Conflict", `the name "${name}" is taken`);
    },
    async releaseName(name, id) {
      const file = path.join(namesDir, name);
      const owner = (await readFile(file, "utf8").catch(() => "")).trim();
      if (owner === id) await unlink(file).catch(() => {});
    },
    async create(record) {
      await mkdir(dir(record.id), { recursive: true, mode: 0o700 });
      await writeFileAtomic(recordFile(record.id), JSON.stringify(record, null, 2));
    },
    read,
    async update(id, change) {
      return locked(id, async () => {
        const next = await change(await read(id));
        await writeFileAtomic(recordFile(id), JSON.stringify(next, null, 2));
        return next;
      });
    },
    locked,
    list,
    async resolve(idOrName) {
      const all = await list();
      const exact = all.find((r) => r.id === idOrName || r.name === idOrName);
      if (exact) return exact;
      if (/^[0-9a-f]{1,63}$/.test(idOrName)) {
        const matches = all.filter((r) => r.id.startsWith(idOrName));
        if (matches.length === 1) return matches[0]!;
        if (matches.length > 1) {
          throw new BerthError(
            "InvalidArgument",
            `"${idOrName}" matches ${matches.length} containers: give more of the id`,
          );
        }
      }
      throw new BerthError("NotFound", `no such container: ${idOrName}`);
    },
    async delete(id) {
      // Move it out of the way in one step, so another process (conmon's exit
      // handler, say) never writes into a half-deleted directory; then delete.
      const trash = path.join(root, `.trash-${id}-${randomBytes(4).toString("hex")}`);
      try {
        await rename(dir(id), trash);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      await rm(trash, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
