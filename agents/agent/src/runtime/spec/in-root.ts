import { lstat, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";

const MAX_SYMLINKS = 40;

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * The host path of `unsafePath` inside `root`, following symlinks as the
 * container would see them: an absolute link target starts again at `root`
 * and `..` never climbs above it (the idea of Go's securejoin). Components
 * that do not exist are joined as they are.
 */
export async function resolveInRoot(root: string, unsafePath: string): Promise<string> {
  const pending = unsafePath.split("/").filter((part) => part !== "" && part !== ".");
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let target: string | null = null;
    try {
      if ((await lstat(candidate)).isSymbolicLink()) target = await readlink(candidate);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (target === null) {
      resolved.push(part);
      continue;
    }
    links += 1;
    if (links > MAX_SYMLINKS) {
      throw new BerthError("InvalidArgument", `too many levels of symbolic links resolving ${unsafePath}`);
    }
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
  }
  return path.join(root, ...resolved);
}

/**
 * A small text file inside a root filesystem (e.g. /etc/passwd), or null when
 * it does not exist. Symlinks stay inside the root; oversized files are refused.
 */
export async function readFileInRoot(
  root: string,
  file: string,
  maxBytes = 1024 * 1024,
): Promise<string | null> {
  const hostPath = await resolveInRoot(root, file);
  try {
    const info = await lstat(hostPath);
    if (!info.isFile()) return null;
    if (info.size > maxBytes) {
      throw new BerthError("InvalidArgument", `${file} in the image is larger than ${maxBytes} bytes`);
    }
    return await readFile(hostPath, "utf8");
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}
