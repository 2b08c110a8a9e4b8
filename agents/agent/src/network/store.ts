import { mkdir, readdir, readFile, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { z } from "zod";
import { writeFileAtomic } from "../state.ts";
import { cniResultSchema } from "./cni-result.ts";

/**
 * One file per attached container, <stateDir>/network/containers/<id>.json,
 * written before anything is created (complete: false) and again once every
 * plugin has answered. It holds what DEL needs after a restart or a crash:
 * the exact configuration lists ADD ran (the CNI spec wants DEL to get the
 * same configuration) and each list's result (DEL's prevResult).
 */

/** CNI_CONTAINERID: letters, digits, '_', '.', '-' (the CNI spec's set); also a safe file name. */
export const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function validateContainerId(containerId: string): string {
  if (!CONTAINER_ID.test(containerId)) {
    throw new BerthError(
      "InvalidArgument",
      `container id ${JSON.stringify(containerId)} is not valid (1–128 letters, digits, '_', '.', '-')`,
    );
  }
  return containerId;
}

const portSchema = z.object({
  hostIp: z.string().optional(),
  hostPort: z.number().int(),
  containerPort: z.number().int(),
  protocol: z.enum(["tcp", "udp"]),
});

const conflistSchema = z.object({
  cniVersion: z.string(),
  name: z.string(),
  plugins: z.array(
    z.looseObject({ type: z.string(), capabilities: z.record(z.string(), z.boolean()).optional() }),
  ),
});

const recordSchema = z.object({
  version: z.literal(1),
  containerId: z.string().regex(CONTAINER_ID),
  mode: z.enum(["bridge", "host", "none"]),
  hostname: z.string(),
  ports: z.array(portSchema),
  /** The netns name (in /run/netns); null in host mode. */
  netns: z.string().nullable(),
  networks: z.array(
    z.object({ ifname: z.string(), conflist: conflistSchema, result: cniResultSchema.nullable() }),
  ),
  complete: z.boolean(),
  createdAt: z.string(),
});
export type AttachmentRecord = z.infer<typeof recordSchema>;

export interface AttachmentStore {
  read(containerId: string): Promise<AttachmentRecord | null>;
  write(record: AttachmentRecord): Promise<void>;
  remove(containerId: string): Promise<void>;
  /** Every record; a corrupt file is reported by id (its name) so cleanup can still remove what it can. */
  list(): Promise<{ records: AttachmentRecord[]; corrupt: string[] }>;
  /** Remove temporary files an interrupted write left (older than a write could take). */
  removeTempFiles(olderThanMs?: number): Promise<number>;
}

export function createAttachmentStore(dir: string): AttachmentStore {
  const fileFor = (containerId: string) => path.join(dir, `${validateContainerId(containerId)}.json`);

  async function read(containerId: string): Promise<AttachmentRecord | null> {
    const file = fileFor(containerId);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new BerthError("Internal", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return recordSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new BerthError("FailedPrecondition", `the network state file ${file} is corrupt`, { cause: err });
    }
  }

  return {
    read,
    async write(record) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(
        fileFor(record.containerId),
        `${JSON.stringify(recordSchema.parse(record), null, 2)}\n`,
      );
    },
    async remove(containerId) {
      await unlink(fileFor(containerId)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
    },
    async removeTempFiles(olderThanMs = 60_000) {
      const names = await readdir(dir).catch(() => [] as string[]);
      let removed = 0;
      for (const name of names.filter((n) => n.endsWith(".tmp"))) {
        const file = path.join(dir, name);
        const info = await stat(file).catch(() => null);
        if (!info || Date.now() - info.mtimeMs < olderThanMs) continue; // a write in progress
        await unlink(file).catch(() => {});
        removed++;
      }
      return removed;
    },
    async list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return { records: [], corrupt: [] };
        throw err;
      }
      const records: AttachmentRecord[] = [];
      const corrupt: string[] = [];
      for (const name of names.sort()) {
        const id = name.endsWith(".json") ? name.slice(0, -5) : null;
        if (!id || !CONTAINER_ID.test(id)) continue; // temp files of writeFileAtomic, strangers
        try {
          const record = await read(id);
          if (record) records.push(record);
        } catch {
          corrupt.push(id);
        }
      }
      return { records, corrupt };
    },
  };
}
