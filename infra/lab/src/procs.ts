import { readdirSync, readFileSync } from "node:fs";

/** A process as the lab remembers it: pid plus its start time, so a reused pid is never mistaken for it. */
export interface ProcessRef {
  pid: number;
  startTime: string;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null when gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Still running (not gone, not a zombie) and still the same process. */
export function alive(ref: ProcessRef | null | undefined): boolean {
  if (!ref) return false;
  return processStartTime(ref.pid) === ref.startTime && !isZombie(ref.pid);
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** Live processes whose command line mentions `needle` (e.g. a lab's directory), this one excepted. */
export function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (isZombie(pid)) continue;
    if (cmdline(pid).some((arg) => arg.includes(needle))) found.push(pid);
  }
  return found;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {}
}

/** SIGKILL a remembered process and wait (up to 5 s) until it is gone. */
export async function killAndWait(ref: ProcessRef): Promise<void> {
  if (!alive(ref)) return;
  signal(ref.pid, "SIGKILL");
  const deadline = Date.now() + 5000;
  while (alive(ref)) {
    if (Date.now() > deadline) throw new Error(`process ${ref.pid} survived SIGKILL for 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
