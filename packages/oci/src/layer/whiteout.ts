import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./exec.ts";
import { lstatOrNull, refuse, walkDirectories } from "./paths.ts";

/**
 * OCI whiteouts (image-spec layer.md): `.wh.<name>` hides <name> of lower
 * layers; `.wh..wh..opq` hides everything of lower layers in its directory.
 * "overlay" turns them into overlayfs's own markers, for a layer kept in its
 * own directory as a lowerdir; "apply" deletes the hidden paths from a
 * directory holding the lower layers' content (flattening).
 */
export type WhiteoutMode = "overlay" | "apply";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_WHITEOUT = ".wh..wh..opq";

export interface WhiteoutContext {
  root: string;
  mode: WhiteoutMode;
  /** Keys ("a/b/c") of the paths this layer has written so far. */
  extracted: ReadonlySet<string>;
}

export function isWhiteout(base: string): boolean {
  return base.startsWith(WHITEOUT_PREFIX);
}

/** Applies one whiteout entry; `components` are the entry's path components. */
export async function applyWhiteout(
  ctx: WhiteoutContext,
  entry: string,
  components: string[],
): Promise<void> {
  const base = components[components.length - 1]!;
  const dir = components.slice(0, -1);
  if (base === OPAQUE_WHITEOUT) {
    await (ctx.mode === "overlay" ? overlayOpaque(ctx, entry, dir) : applyOpaque(ctx, entry, dir));
    return;
  }
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === "" || name === "." || name === ".." || name.startsWith(WHITEOUT_PREFIX)) {
    throw refuse(entry, "invalid whiteout name");
  }
  // Whiteouts hide lower layers only: what this same layer wrote stays.
  if (ctx.extracted.has([...dir, name].join("/"))) return;
  await (ctx.mode === "overlay"
    ? overlayWhiteout(ctx, entry, dir, name)
    : applyDelete(ctx, entry, dir, name));
}

/** An overlayfs whiteout: a 0/0 character device, made with mknod(1). */
async function overlayWhiteout(ctx: WhiteoutContext, entry: string, dir: string[], name: string) {
  walkDirectories(ctx.root, dir, entry, true);
  const target = join(ctx.root, ...dir, name);
  await rm(target, { recursive: true, force: true });
  await run("mknod", [target, "c", "0", "0"]);
}

/** An overlayfs opaque directory: the xattr trusted.overlay.opaque=y, set with setfattr(1). */
async function overlayOpaque(ctx: WhiteoutContext, entry: string, dir: string[]) {
  walkDirectories(ctx.root, dir, entry, true);
  await run("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(ctx.root, ...dir)]);
}

/** Deletes a whited-out path of the lower layers. */
async function applyDelete(ctx: WhiteoutContext, entry: string, dir: string[], name: string) {
  if (!walkDirectories(ctx.root, dir, entry, false)) return;
  await rm(join(ctx.root, ...dir, name), { recursive: true, force: true });
}

/** Empties a directory of everything this layer did not write. */
async function applyOpaque(ctx: WhiteoutContext, entry: string, dir: string[]) {
  if (!walkDirectories(ctx.root, dir, entry, false)) return;
  await pruneLower(ctx, dir);
}

async function pruneLower(ctx: WhiteoutContext, dir: string[]): Promise<void> {
  const abs = join(ctx.root, ...dir);
  for (const child of await readdir(abs)) {
    const key = [...dir, child].join("/");
    if (!ctx.extracted.has(key)) {
      await rm(join(abs, child), { recursive: true, force: true });
      continue;
    }
    const st = lstatOrNull(join(abs, child));
    if (st?.isDirectory()) await pruneLower(ctx, [...dir, child]);
  }
}
