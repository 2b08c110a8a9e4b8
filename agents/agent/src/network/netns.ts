import { access, readdir } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { ExecError, runProgram } from "../exec.ts";

/**
 * Named network namespaces, as iproute2 keeps them: a bind mount of the
 * namespace on /run/netns/<name>, so it lives without a process in it and
 * runc can join it by path.
 */

export const NETNS_DIR = "/run/netns";
export const DEFAULT_NETNS_PREFIX = "berth-";

/** `berth-` + the first 12 characters of the container id. */
export function netnsNameFor(containerId: string, prefix: string = DEFAULT_NETNS_PREFIX): string {
  return `${prefix}${containerId.slice(0, 12)}`;
}

export function netnsPathFor(name: string): string {
  return path.join(NETNS_DIR, name);
}

export async function netnsExists(name: string): Promise<boolean> {
  try {
    await access(netnsPathFor(name));
    return true;
  } catch {
    return false;
  }
}

/** `ip netns add`; Conflict when the name is taken (another container with the same 12-character prefix). */
export async function createNetns(name: string): Promise<string> {
  if (await netnsExists(name)) {
    throw new BerthError("Conflict", `network namespace ${name} already exists`);
  }
  await runProgram("ip", ["netns", "add", name]);
  return netnsPathFor(name);
}

/** `ip netns delete`; a namespace that is already gone is fine. */
export async function deleteNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) return;
  try {
    await runProgram("ip", ["netns", "delete", name]);
  } catch (err) {
    if (err instanceof ExecError && !(await netnsExists(name))) return;
    throw err;
  }
}

/** Names in /run/netns that start with `prefix`. */
export async function listNetns(prefix: string): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).filter((name) => name.startsWith(prefix)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new BerthError("Internal", `cannot list ${NETNS_DIR}: ${(err as Error).message}`, { cause: err });
  }
}
