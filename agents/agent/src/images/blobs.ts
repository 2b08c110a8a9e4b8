// The store's content: blobs/sha256/<hex> as in an OCI image layout — image manifests and configs
// exactly as they were pulled, loaded or built, and the compressed layer blobs they name.
import { createHash, randomBytes } from "node:crypto";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { readJson } from "./atomic.ts";
import { digestHex } from "./reference.ts";

/** images/config.json: how the store keeps content. */
export interface StoreSettings {
  /**
   * Keep compressed layer blobs after unpacking (default true). Without them a push or save makes
   * each layer again from its directory (reproducibly, but with new digests, so the image's config
   * and manifest change too).
   */
  keepLayerBlobs: boolean;
}

/** A blob file to bring into the store, already checked to have this digest. */
export interface BlobFile {
  digest: string;
  file: string;
  /** Hard-link (or copy) the file instead of moving it (the caller keeps its copy). */
  keepSource?: boolean;
}

export interface BlobStore {
  readonly dir: string;
  path(digest: string): string;
  has(digest: string): Promise<boolean>;
  /** The blob's bytes, or null when it is not in the store. */
  read(digest: string): Promise<Buffer | null>;
  /** Stores bytes under their sha256 (idempotent); returns the digest. */
  putBytes(bytes: Buffer): Promise<string>;
  /** Moves (or links) checked files into the store; a blob already there stays. */
  putFiles(files: BlobFile[]): Promise<void>;
  /** Digests of every blob in the store. */
  list(): Promise<string[]>;
  /** Removes blobs; returns their sizes (what was reclaimed). */
  remove(digests: string[]): Promise<Array<{ digest: string; size: number }>>;
  settings(): Promise<StoreSettings>;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

export function createBlobStore(root: string, tempDir: string): BlobStore {
  const dir = path.join(root, "blobs", "sha256");
  const blobPath = (digest: string) => {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest))
      throw new BerthError("InvalidArgument", `not a sha256 digest: ${digest}`);
    return path.join(dir, digestHex(digest));
  };
  const ensure = () => Promise.all([mkdir(dir, { recursive: true }), mkdir(tempDir, { recursive: true })]);

  async function putFile(blob: BlobFile): Promise<void> {
    const target = blobPath(blob.digest);
    if (await exists(target)) {
      if (!blob.keepSource) await rm(blob.file, { force: true });
      return;
    }
    if (!blob.keepSource) {
      await rename(blob.file, target);
      return;
    }
    // A hard link costs nothing; across filesystems, a copy renamed into place.
    const linked = await link(blob.file, target).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === "EEXIST") return true;
        if (err.code === "EXDEV" || err.code === "EPERM") return false;
        throw err;
      },
    );
    if (linked) return;
    const temp = path.join(tempDir, `blob-${randomBytes(6).toString("hex")}`);
    await copyFile(blob.file, temp);
    await rename(temp, target);
  }

  return {
    dir,
    path: blobPath,
    has: (digest) => exists(blobPath(digest)),
    read: (digest) => readFile(blobPath(digest)).catch(() => null),
    async putBytes(bytes) {
      await ensure();
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      if (!(await exists(blobPath(digest)))) {
        const temp = path.join(tempDir, `blob-${randomBytes(6).toString("hex")}`);
        await writeFile(temp, bytes, { mode: 0o644 });
        await rename(temp, blobPath(digest));
      }
      return digest;
    },
    async putFiles(files) {
      await ensure();
      for (const blob of files) await putFile(blob);
    },
    async list() {
      const names = await readdir(dir).catch(() => [] as string[]);
      return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
    },
    async remove(digests) {
      const removed = [];
      for (const digest of digests) {
        const size = await stat(blobPath(digest)).then(
          (s) => s.size,
          () => null,
        );
        if (size === null) continue;
        await rm(blobPath(digest), { force: true });
        removed.push({ digest, size });
      }
      return removed;
    },
    async settings() {
      const raw = await readJson<Partial<StoreSettings>>(path.join(root, "config.json"), {});
      if (raw.keepLayerBlobs !== undefined && typeof raw.keepLayerBlobs !== "boolean") {
        throw new BerthError(
          "InvalidArgument",
          `${path.join(root, "config.json")}: keepLayerBlobs must be true or false`,
        );
      }
      return { keepLayerBlobs: raw.keepLayerBlobs ?? true };
    },
  };
}
