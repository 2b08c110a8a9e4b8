import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { LabLayout } from "./layout.ts";
import type { ProcessRef } from "./procs.ts";

/**
 * What a lab made, written after every change to `<dir>/lab.json`: so
 * `status`, `kill`, `revive` and `down` work from another process (the CLI)
 * and after a crash.
 */
export interface LabRecord {
  name: string;
  dir: string;
  gateway: string;
  createdAt: string;
  /** Whether the lab inserted its iptables FORWARD rule. */
  forwardRule: boolean;
  hosts: HostRecord[];
}

export interface HostRecord {
  index: number;
  agent: ProcessRef | null;
  /** How its agent was started (the join token is not kept: a revived agent uses its credential). */
  server: string | null;
  logLevel: string | null;
}

export async function readRecord(lab: LabLayout): Promise<LabRecord | null> {
  try {
    return JSON.parse(await readFile(lab.recordFile, "utf8")) as LabRecord;
  } catch {
    return null;
  }
}

export async function writeRecord(lab: LabLayout, record: LabRecord): Promise<void> {
  await mkdir(path.dirname(lab.recordFile), { recursive: true });
  const tmp = `${lab.recordFile}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(tmp, lab.recordFile);
}
