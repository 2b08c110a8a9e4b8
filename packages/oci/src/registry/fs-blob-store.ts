// Filesystem driver of BlobStore: <root>/blobs/sha256/<ab>/<hex>, uploads in <root>/uploads/<uuid>/.
import { createHash, type Hash, randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { BlobInfo, BlobStore, ByteRange, UploadInfo } from "./blob-store.ts";
import { RegistryError } from "./errors.ts";
import {
  createKeyedLock,
  FILE_STREAM_BYTES,
  fsyncDir,
  hashFile,
  isNotFound,
  writeHashed,
} from "./fs-util.ts";
import { assertDigest } from "./names.ts";

const uuidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface UploadState {
  id: string;
  repository: string;
  startedAt: string;
}

/** An upload's running hash, valid while `offset` equals the data file's size. */
interface LiveHash {
  hash: Hash;
  offset: number;
}

export interface FsBlobStoreOptions {
  /** Directory holding `blobs/`, `uploads/` and `tmp/`; created when missing. */
  root: string;
}

export function createFsBlobStore(options: FsBlobStoreOptions): BlobStore {
  return new FsBlobStore(options.root);
}

class FsBlobStore implements BlobStore {
  private readonly liveHashes = new Map<string, LiveHash>();
  private readonly lock = createKeyedLock();

  constructor(private readonly root: string) {}

  private blobPath(digest: string): string {
    const hex = assertDigest(digest).slice("sha256:".length);
    return join(this.root, "blobs", "sha256", hex.slice(0, 2), hex);
  }

  private uploadDir(id: string): string | undefined {
    return uuidRe.test(id) ? join(this.root, "uploads", id) : undefined;
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const info = await stat(this.blobPath(digest));
      return { digest, size: info.size, modifiedAt: info.mtime };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async exists(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  async get(digest: string, range?: ByteRange): Promise<Readable | undefined> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.blobPath(digest), "r");
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return handle.createReadStream({ ...range, highWaterMark: FILE_STREAM_BYTES });
  }

  async put(digest: string, body: Readable | Buffer, options: { maxBytes?: number } = {}): Promise<BlobInfo> {
    const target = this.blobPath(digest);
    const tmpDir = join(this.root, "tmp");
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    try {
      const hash = createHash("sha256");
      await writeHashed(body, tmp, hash, options);
      verifyDigest(digest, `sha256:${hash.digest("hex")}`);
      return await this.commit(tmp, target, digest);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Moves a verified file into place (a blob already present is kept as it is). */
  private async commit(source: string, target: string, digest: string): Promise<BlobInfo> {
    const dir = join(target, "..");
    await mkdir(dir, { recursive: true });
    await rename(source, target);
    await fsyncDir(dir);
    const info = await stat(target);
    return { digest, size: info.size, modifiedAt: info.mtime };
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await unlink(this.blobPath(digest));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    const base = join(this.root, "blobs", "sha256");
    for (const prefix of await readdirOrEmpty(base)) {
      for (const hex of await readdirOrEmpty(join(base, prefix))) {
        const digest = `sha256:${hex}`;
        if (!/^[a-f0-9]{64}$/.test(hex)) continue;
        const info = await this.stat(digest);
        if (info) yield info;
      }
    }
  }

  async startUpload(repository: string): Promise<UploadInfo> {
    const id = randomUUID();
    const dir = join(this.root, "uploads", id);
    await mkdir(dir, { recursive: true });
    const state: UploadState = { id, repository, startedAt: new Date().toISOString() };
    await writeFile(join(dir, "data"), "");
    await writeFile(join(dir, "state.json"), JSON.stringify(state));
    this.liveHashes.set(id, { hash: createHash("sha256"), offset: 0 });
    return { id, repository, offset: 0, startedAt: new Date(state.startedAt) };
  }

  async getUpload(id: string): Promise<UploadInfo | undefined> {
    const dir = this.uploadDir(id);
    if (!dir) return undefined;
    try {
      const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as UploadState;
      const data = await stat(join(dir, "data"));
      return { id, repository: state.repository, offset: data.size, startedAt: new Date(state.startedAt) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async requireUpload(id: string): Promise<{ info: UploadInfo; dir: string }> {
    const info = await this.getUpload(id);
    const dir = this.uploadDir(id);
    if (!info || !dir) throw new RegistryError("BLOB_UPLOAD_UNKNOWN", `upload ${id} is unknown`);
    return { info, dir };
  }

  appendUpload(id: string, body: Readable, expectedOffset?: number): Promise<UploadInfo> {
    return this.lock(id, async () => {
      const { info, dir } = await this.requireUpload(id);
      if (expectedOffset !== undefined && expectedOffset !== info.offset) {
        throw rangeError(info.offset, `chunk starts at ${expectedOffset}, upload is at ${info.offset}`);
      }
      const live = this.liveHashes.get(id);
      const usable = live && live.offset === info.offset ? live : undefined;
      const hash = usable?.hash ?? createHash("sha256");
      this.liveHashes.delete(id);
      const written = await writeHashed(body, join(dir, "data"), hash, { append: true });
      if (usable || info.offset === 0) this.liveHashes.set(id, { hash, offset: info.offset + written });
      return { ...info, offset: info.offset + written };
    });
  }

  completeUpload(id: string, digest: string): Promise<BlobInfo> {
    return this.lock(id, async () => {
      assertDigest(digest);
      const { info, dir } = await this.requireUpload(id);
      const data = join(dir, "data");
      const live = this.liveHashes.get(id);
      const actual =
        live && live.offset === info.offset ? `sha256:${live.hash.digest("hex")}` : await hashFile(data);
      this.liveHashes.delete(id);
      try {
        verifyDigest(digest, actual);
        return await this.commit(data, this.blobPath(digest), digest);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  cancelUpload(id: string): Promise<boolean> {
    return this.lock(id, async () => {
      const dir = this.uploadDir(id);
      this.liveHashes.delete(id);
      if (!dir || !(await this.getUpload(id))) return false;
      await rm(dir, { recursive: true, force: true });
      return true;
    });
  }

  async *listUploads(): AsyncIterable<UploadInfo> {
    for (const id of await readdirOrEmpty(join(this.root, "uploads"))) {
      const info = await this.getUpload(id);
      if (info) yield info;
    }
  }
}

function verifyDigest(expected: string, actual: string): void {
  if (expected !== actual) {
    throw new RegistryError("DIGEST_INVALID", `content digest ${actual} does not match ${expected}`, {
      detail: { expected, actual },
    });
  }
}

function rangeError(offset: number, message: string): RegistryError {
  return new RegistryError("RANGE_INVALID", message, {
    headers: { Range: offset === 0 ? "0-0" : `0-${offset - 1}` },
  });
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
