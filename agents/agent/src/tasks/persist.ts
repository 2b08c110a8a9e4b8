/**
 * The last task set, kept in `<stateDir>/tasks/desired.json` so a restarted
 * agent goes on managing the same tasks before (or without) reaching the
 * control plane.
 */
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { desiredTaskSchema } from "@berth/protocol";
import { z } from "zod";
import { writeFileAtomic } from "../images/atomic.ts";
import type { TaskSet } from "./runner.ts";

export interface TaskSetStore {
  /** The stored set; null when there is none or it cannot be read (the next set replaces it). */
  load(): Promise<TaskSet | null>;
  save(set: TaskSet): Promise<void>;
}

const storedSchema = z.object({
  hostId: z.string().optional(),
  version: z.number().int().nonnegative(),
  tasks: z.array(desiredTaskSchema),
});

export function taskSetPath(stateDir: string): string {
  return path.join(stateDir, "tasks", "desired.json");
}

export function createTaskSetStore(stateDir: string): TaskSetStore {
  const file = taskSetPath(stateDir);
  // Saves run one after another; the last one wins.
  let chain: Promise<void> = Promise.resolve();
  return {
    async load() {
      const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return null;
        throw err;
      });
      if (text === null) return null;
      try {
        const parsed = storedSchema.safeParse(JSON.parse(text));
        return parsed.success ? parsed.data : null;
      } catch {
        return null;
      }
    },
    save(set) {
      const data = JSON.stringify({ hostId: set.hostId, version: set.version, tasks: set.tasks });
      chain = chain
        .catch(() => {})
        .then(async () => {
          await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
          await writeFileAtomic(file, data);
        });
      return chain;
    },
  };
}
