import { createReadStream } from "node:fs";
import {
  chmod,
  chown,
  copyFile,
  lchown,
  lstat,
  mkdir,
  open,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
} from "node:fs/promises";
import path from "node:path";
import { gunzipSync, constants as zlib } from "node:zlib";
import { unpackLayer } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { resolveInRoot } from "../../runtime/spec/index.ts";
import type { SelectedSource, SourceEntry } from "../context/sources.ts";

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopyInput {
  /** The step's writable root (an overlay over the stage's layers). */
  root: string;
  selected: SelectedSource[];
  /** Destination as written: absolute, or relative to `workdir`. */
  dest: string;
  workdir: string;
  /** --chown; otherwise context files become root's and other stages' files keep their owners. */
  owner: Owner | null;
  keepOwners: boolean;
  chmod?: number;
  /** How many source arguments the instruction had. */
  sourceCount: number;
}

function copyError(message: string): BerthError {
  return new BerthError("InvalidArgument", message);
}

/** `mkdir -p` of a container path inside `root`; new directories get `owner` (root by default). */
async function ensureDir(root: string, containerPath: string, owner: Owner | null): Promise<string> {
  const parts = containerPath.split("/").filter(Boolean);
  let current = "/";
  for (const part of parts) {
    current = path.posix.join(current, part);
    const host = await resolveInRoot(root, current);
    const info = await stat(host).catch(() => null);
    if (info?.isDirectory()) continue;
    if (info) throw copyError(`cannot copy to ${containerPath}: ${current} is not a directory`);
    await mkdir(host, { mode: 0o755 });
    if (owner) await chown(host, owner.uid, owner.gid);
  }
  return resolveInRoot(root, containerPath);
}

function ownerOf(entry: SourceEntry, input: CopyInput): Owner {
  if (input.owner) return input.owner;
  return input.keepOwners ? { uid: entry.stats.uid, gid: entry.stats.gid } : { uid: 0, gid: 0 };
}

/** Copy one entry to the container path `target` (its parent exists). */
async function copyEntry(root: string, entry: SourceEntry, target: string, input: CopyInput): Promise<void> {
  const parent = await resolveInRoot(root, path.posix.dirname(target));
  const host = path.join(parent, path.posix.basename(target));
  const owner = ownerOf(entry, input);
  const existing = await lstat(host).catch(() => null);
  const { stats } = entry;
  const mode = input.chmod ?? stats.mode & 0o7777;
  if (stats.isDirectory()) {
    if (existing && !existing.isDirectory()) await rm(host, { force: true });
    if (!existing?.isDirectory()) await mkdir(host, { mode: 0o755 });
    await chmod(host, mode);
    await chown(host, owner.uid, owner.gid);
    await utimes(host, stats.atime, stats.mtime);
    return;
  }
  if (existing?.isDirectory())
    throw copyError(`cannot copy ${entry.rel || "a file"} over the directory ${target}`);
  if (existing) await rm(host, { force: true });
  if (stats.isSymbolicLink()) {
    await symlink(await readlink(entry.abs), host);
    await lchown(host, owner.uid, owner.gid);
    return;
  }
  if (!stats.isFile()) return; // devices, fifos and sockets are not copied
  await copyFile(entry.abs, host);
  await chmod(host, mode);
  await chown(host, owner.uid, owner.gid);
  await utimes(host, stats.atime, stats.mtime);
}

/**
 * Docker's COPY: a directory's contents go into the destination; a file
 * goes to the destination path, or into it when the destination ends with
 * "/", is an existing directory, or several sources are copied.
 */
export async function copyInto(input: CopyInput): Promise<void> {
  const { root } = input;
  const dest = path.posix.resolve(input.workdir || "/", input.dest);
  const single =
    input.selected.length === 1 && input.sourceCount === 1 && !input.selected[0]!.stats.isDirectory();
  const destInfo = await stat(await resolveInRoot(root, dest)).catch(() => null);
  const intoDir =
    !single || input.dest.endsWith("/") || input.dest.endsWith("/.") || destInfo?.isDirectory() === true;
  if (!single && !input.dest.endsWith("/") && input.sourceCount > 1) {
    throw copyError(`when copying several sources, the destination must end with "/" (${input.dest})`);
  }
  if (!intoDir) {
    await ensureDir(root, path.posix.dirname(dest), input.owner);
    await copyEntry(root, input.selected[0]!.entries[0]!, dest, input);
    return;
  }
  await ensureDir(root, dest, input.owner);
  for (const source of input.selected) {
    if (!source.stats.isDirectory()) {
      await copyEntry(
        root,
        source.entries[0]!,
        path.posix.join(dest, path.posix.basename(source.match)),
        input,
      );
      continue;
    }
    for (const entry of source.entries) await copyEntry(root, entry, path.posix.join(dest, entry.rel), input);
  }
}

/** "tar" or "gzip" when `file` is a tar archive ADD extracts; null for any other file. */
export async function archiveKind(file: string): Promise<"tar" | "gzip" | null> {
  const handle = await open(file, "r");
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const isTar = (b: Buffer) => b.length >= 263 && b.subarray(257, 262).toString("latin1") === "ustar";
  if (head[0] === 0x1f && head[1] === 0x8b) {
    try {
      return isTar(gunzipSync(head, { finishFlush: zlib.Z_SYNC_FLUSH })) ? "gzip" : null;
    } catch {
      return null;
    }
  }
  const magic = head.subarray(0, 6).toString("latin1");
  if (magic.startsWith("BZh") || magic.startsWith("\xfd7zXZ") || magic.startsWith("\x28\xb5\x2f\xfd")) {
    throw copyError(
      `${path.basename(file)}: ADD extracts only .tar and .tar.gz archives (not bzip2, xz or zstd)`,
    );
  }
  return isTar(head) ? "tar" : null;
}

/** Extract an archive for ADD into `dir` (every entry checked to stay inside it). */
export async function extractArchive(file: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await unpackLayer(createReadStream(file), dir, { whiteouts: "apply" });
}
