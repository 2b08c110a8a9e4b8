/** Small readers for cgroup interface files: missing files read as null, never throw. */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";

export async function readText(file: string): Promise<string | null> {
  return readFile(file, "utf8").catch(() => null);
}

/** A file holding one integer (or "max", returned as Infinity); null when absent or unreadable. */
export async function readNumber(file: string): Promise<number | null> {
  const text = (await readText(file))?.trim();
  if (text === undefined || text === "") return null;
  if (text === "max") return Number.POSITIVE_INFINITY;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** "key value" lines (cpu.stat, memory.events, memory.oom_control, memory.stat). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value, extra] = line.trim().split(/\s+/);
    if (key && value !== undefined && extra === undefined && /^\d+$/.test(value))
      values.set(key, Number(value));
  }
  return values;
}

export async function readFlatKeyed(file: string): Promise<Map<string, number> | null> {
  const text = await readText(file);
  return text === null ? null : parseFlatKeyed(text);
}

export async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** `root/…/cgroupsPath`, refusing a path that climbs out of the hierarchy. */
export function cgroupDir(root: string, controller: string, cgroupsPath: string): string {
  const segments = cgroupsPath.split("/").filter((s) => s !== "");
  if (segments.length === 0 || segments.some((s) => s === "." || s === "..")) {
    throw new BerthError("InvalidArgument", `cgroup path "${cgroupsPath}" must name a cgroup below the root`);
  }
  return path.join(root, controller, ...segments);
}
