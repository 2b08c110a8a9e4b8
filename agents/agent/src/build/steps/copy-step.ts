import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { mountRootfs, unmountRootfs } from "../../images/index.ts";
import { parseGroup, parsePasswd, readUserDb } from "../../runtime/spec/user.ts";
import { type SelectedSource, selectSources, type Tree } from "../context/sources.ts";
import { archiveKind, copyInto, extractArchive, type Owner } from "./copy.ts";

/**
 * A writable root for one step: an overlay over `layerDirs` whose upper
 * directory collects the changes. `fn` runs with it mounted; it is always
 * unmounted afterwards. The caller turns `<dir>/upper` into a layer and
 * removes `dir`.
 */
export async function withStepRoot<T>(
  layerDirs: readonly string[],
  dir: string,
  fn: (rootfs: string) => Promise<T>,
): Promise<T> {
  const rootfs = await mountRootfs({ layerDirs, containerDir: dir });
  try {
    return await fn(rootfs);
  } finally {
    await unmountRootfs(dir);
  }
}

/** A scratch directory under `parent`, removed after `fn` (even when it fails). */
export async function withTempDir<T>(
  parent: string,
  prefix: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = path.join(parent, `${prefix}-${randomBytes(6).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  try {
    return await fn(dir);
  } finally {
    await unmountRootfs(dir).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Docker's --chown: "user[:group]" by name (the image's /etc/passwd and
 * /etc/group) or number; a user without a group gets the same number as gid.
 */
export async function resolveChown(rootfs: string, chown: string): Promise<Owner> {
  const [userPart = "", groupPart, extra] = chown.split(":");
  if (userPart === "" || extra !== undefined || groupPart === "") {
    throw new BerthError("InvalidArgument", `--chown=${chown}: use user[:group], by name or number`);
  }
  const db = await readUserDb(rootfs);
  const lookup = (name: string, ids: { name: string; id: number }[], file: string) => {
    if (/^\d+$/.test(name)) return Number(name);
    const found = ids.find((e) => e.name === name);
    if (!found)
      throw new BerthError("InvalidArgument", `--chown=${chown}: no "${name}" in the image's ${file}`);
    return found.id;
  };
  const uid = lookup(
    userPart,
    parsePasswd(db.passwd).map((e) => ({ name: e.name, id: e.uid })),
    "/etc/passwd",
  );
  const gid =
    groupPart === undefined
      ? uid
      : lookup(
          groupPart,
          parseGroup(db.group).map((g) => ({ name: g.name, id: g.gid })),
          "/etc/group",
        );
  return { uid, gid };
}

export interface CopyStepInput {
  rootfs: string;
  tree: Tree;
  selected: SelectedSource[];
  add: boolean;
  sourceCount: number;
  dest: string;
  workdir: string;
  chown?: string;
  chmod?: number;
  /** Where ADD may unpack archives. */
  tempDir: string;
}

/** COPY or ADD into a mounted step root. ADD extracts local tar archives into the destination. */
export async function performCopy(input: CopyStepInput): Promise<void> {
  const owner = input.chown === undefined ? null : await resolveChown(input.rootfs, input.chown);
  const base = {
    root: input.rootfs,
    workdir: input.workdir,
    owner,
    ...(input.chmod !== undefined ? { chmod: input.chmod } : {}),
  };
  const plain: SelectedSource[] = [];
  const archives: SelectedSource[] = [];
  for (const source of input.selected) {
    const isArchive =
      input.add && source.stats.isFile() && (await archiveKind(source.entries[0]!.abs)) !== null;
    (isArchive ? archives : plain).push(source);
  }
  if (plain.length > 0) {
    await copyInto({
      ...base,
      selected: plain,
      dest: input.dest,
      keepOwners: input.tree.ignore === null,
      sourceCount: archives.length > 0 ? plain.length + archives.length : input.sourceCount,
    });
  }
  for (const archive of archives) {
    await withTempDir(input.tempDir, "add", async (dir) => {
      await extractArchive(archive.entries[0]!.abs, dir);
      const selected = await selectSources({ root: dir, ignore: null, followLinks: false }, ["."]);
      const dest = input.dest.endsWith("/") ? input.dest : `${input.dest}/`;
      await copyInto({ ...base, selected, dest, keepOwners: true, sourceCount: 1 });
    });
  }
}
