import { mkdir, readFile, realpath } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { ExecError, runProgram } from "../exec.ts";
import { parseMountTable } from "../facts.ts";

export interface MountRootfsInput {
  /** The image's unpacked layers, lowest first (ResolvedImage.layerDirs). */
  layerDirs: readonly string[];
  /** The container's own directory: upper/, work/ and rootfs/ are made in it. */
  containerDir: string;
}

const MOUNT_MS = 30_000;

function checkOverlayPath(dir: string): void {
  if (!path.isAbsolute(dir) || /[,:\n]/.test(dir)) {
    throw new BerthError(
      "InvalidArgument",
      `overlay paths must be absolute without ",", ":" or newlines: ${JSON.stringify(dir)}`,
    );
  }
}

/** The overlay mount options: the topmost layer comes first in lowerdir. */
export function overlayOptions(layerDirs: readonly string[], upper: string, work: string): string {
  if (layerDirs.length === 0) throw new BerthError("InvalidArgument", "an image needs at least one layer");
  for (const dir of [...layerDirs, upper, work]) checkOverlayPath(dir);
  return `lowerdir=${[...layerDirs].reverse().join(":")},upperdir=${upper},workdir=${work}`;
}

/** True when `target` is a mount point in this process's mount namespace. */
export async function isMounted(target: string): Promise<boolean> {
  const resolved = await realpath(target).catch(() => path.resolve(target));
  const mounts = parseMountTable(await readFile("/proc/self/mountinfo", "utf8"));
  return mounts.some((m) => m.mountPoint === resolved);
}

/**
 * Mount the container's root filesystem: overlayfs over the image's layers
 * (read-only lower directories, never written — even for a one-layer image)
 * with `<containerDir>/upper` taking the container's writes. Idempotent.
 */
export async function mountRootfs(input: MountRootfsInput): Promise<string> {
  const dir = input.containerDir;
  const [upper, work, rootfs] = ["upper", "work", "rootfs"].map((name) => path.join(dir, name)) as [
    string,
    string,
    string,
  ];
  const options = overlayOptions(input.layerDirs, upper, work);
  await Promise.all([upper, work, rootfs].map((d) => mkdir(d, { recursive: true, mode: 0o755 })));
  if (await isMounted(rootfs)) return rootfs;
  await runProgram("mount", ["-t", "overlay", "overlay", "-o", options, rootfs], { timeoutMs: MOUNT_MS });
  return rootfs;
}

/** Unmount `<containerDir>/rootfs`; nothing to do when it is not mounted. */
export async function unmountRootfs(containerDir: string): Promise<void> {
  const rootfs = path.join(containerDir, "rootfs");
  if (!(await isMounted(rootfs))) return;
  try {
    await runProgram("umount", [rootfs], { timeoutMs: MOUNT_MS });
  } catch (err) {
    if (err instanceof ExecError && /not mounted|no mount point/i.test(err.stderrTail)) return;
    throw err;
  }
}
