import { createHash } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ByteSource, detectCompression, isOciError, MAX_MANIFEST_BYTES, readTar } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { BlobCopy } from "../blob-copy.ts";

/** The most an archive may hold, uncompressed. */
const MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024 * 1024;
/** JSON files at the top of a layout are read into memory, so they are bounded. */
export const MAX_JSON_BYTES = MAX_MANIFEST_BYTES;
const TOP_FILES = new Set(["oci-layout", "index.json", "manifest.json", "repositories"]);
const DIRECTORIES = new Set(["", "blobs", "blobs/sha256"]);
const BLOB = /^blobs\/sha256\/([a-f0-9]{64})$/;
/**
 * The members of Docker's archive format from before Docker 25 (and podman's and skopeo's
 * docker-archive): a config `<hex>.json`, layers `<hex>/layer.tar` or `<hex>.tar` (a duplicate
 * may be a symlink to another), and the v1 metadata `<hex>/json` and `<hex>/VERSION` (skipped).
 */
const LEGACY_DIRECTORY = /^[a-f0-9]{64}$/;
const LEGACY_CONFIG = /^[a-f0-9]{64}\.json$/;
const LEGACY_LAYER = /^[a-f0-9]{64}(\/layer)?\.tar$/;
const LEGACY_V1 = /^[a-f0-9]{64}\/(json|VERSION)$/;

/** An image archive read into a directory: its small files in memory, its blobs checked and on disk. */
export interface ReadArchive {
  /** oci-layout, index.json, manifest.json, repositories, when present. */
  files: Map<string, Buffer>;
  /** Digest → path of the blob file (its content has this digest). */
  blobs: Map<string, string>;
  /** Docker's old format: member name (a config or a layer) → the digest of its content, in `blobs`. */
  legacy: Map<string, string>;
  /** Where the blob files are; `addBlob` puts more there. */
  blobDir: string;
}

/** Adds a blob made while loading (a manifest for an image of Docker's old format). */
export async function addBlob(archive: ReadArchive, digest: string, data: Buffer): Promise<void> {
  if (archive.blobs.has(digest)) return;
  const file = path.join(archive.blobDir, digest.slice("sha256:".length));
  await writeFile(file, data, { flag: "wx", mode: 0o600 });
  archive.blobs.set(digest, file);
}

const bad = (message: string) => new BerthError("InvalidArgument", `not an image archive: ${message}`);

/** "./blobs/sha256/x" and "blobs/sha256/x/" are the same member. */
export function memberName(raw: string): string {
  return raw.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
}

/** The input, gunzipped when it starts with gzip's magic (as `docker load` accepts). */
async function uncompressed(input: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const iterator = input[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw bad("the input is empty");
  async function* replay(): AsyncGenerator<Uint8Array> {
    yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  if (detectCompression(first.value) === "none") return replay();
  const gunzip = createGunzip();
  pipeline(Readable.from(replay()), gunzip, () => {});
  return gunzip;
}

async function collect(source: ByteSource, name: string, size: number): Promise<Buffer> {
  if (size > MAX_JSON_BYTES) throw bad(`${name} is ${size} bytes; the limit is ${MAX_JSON_BYTES}`);
  const parts: Buffer[] = [];
  for await (const chunk of source.chunks(size)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Writes `size` bytes of the archive to `file` (synchronously, as a pull keeps its blob); returns their sha256 (hex). */
async function writeMember(source: ByteSource, size: number, file: string): Promise<string> {
  const hash = createHash("sha256");
  const copy = new BlobCopy(file, 0o600);
  try {
    for await (const chunk of source.chunks(size)) {
      hash.update(chunk);
      copy.write(chunk);
    }
  } finally {
    copy.close();
  }
  return hash.digest("hex");
}

/** Writes a blob to `file`, checking its content against the digest its name claims. */
async function writeBlob(source: ByteSource, hex: string, size: number, file: string): Promise<void> {
  const actual = await writeMember(source, size, file);
  if (actual !== hex) throw bad(`blob sha256:${hex} has the digest sha256:${actual}`);
}

/** A member of Docker's old format, kept as the blob of its digest; returns the digest. */
async function writeLegacy(
  source: ByteSource,
  size: number,
  result: ReadArchive,
  temp: string,
): Promise<string> {
  const hex = await writeMember(source, size, temp);
  const digest = `sha256:${hex}`;
  if (result.blobs.has(digest)) await rm(temp);
  else {
    const file = path.join(result.blobDir, hex);
    await rename(temp, file);
    result.blobs.set(digest, file);
  }
  return digest;
}

/**
 * Reads an image archive (an OCI image layout as a tar, plain or gzip, or
 * Docker's format from before Docker 25) into `dir`. Only the formats' own
 * members are accepted — oci-layout, index.json, blobs/sha256/<hex>, the
 * manifest.json and repositories Docker adds, and the old format's members
 * (LEGACY_*) — so no member can name a path of its choosing; each blob is
 * hashed as it is written and refused unless it matches its name.
 */
export async function readArchive(input: AsyncIterable<Uint8Array>, dir: string): Promise<ReadArchive> {
  try {
    return await readMembers(input, dir);
  } catch (err) {
    if (isOciError(err)) throw bad(err.message);
    throw err;
  }
}

async function readMembers(input: AsyncIterable<Uint8Array>, dir: string): Promise<ReadArchive> {
  const blobDir = path.join(dir, "blobs");
  await mkdir(blobDir, { recursive: true });
  // Each blob is hashed as it is written: a digest of the whole archive would be of no use.
  const source = new ByteSource(await uncompressed(input), MAX_ARCHIVE_BYTES, { digest: false });
  const result: ReadArchive = { files: new Map(), blobs: new Map(), legacy: new Map(), blobDir };
  /** Old-format layers that are symlinks to another layer member. */
  const aliases = new Map<string, string>();
  let members = 0;
  for await (const header of readTar(source)) {
    members += 1;
    const name = memberName(header.path);
    if (header.type === "directory" && (DIRECTORIES.has(name) || LEGACY_DIRECTORY.test(name))) continue;
    if (header.type === "symlink" && LEGACY_LAYER.test(name)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(name), header.linkpath));
      if (!LEGACY_LAYER.test(target))
        throw bad(`"${header.path}" links to "${header.linkpath}", not a layer`);
      aliases.set(name, target);
      continue;
    }
    if (header.type !== "file")
      throw bad(`member "${header.path}" is a ${header.type}; only files are expected`);
    const blob = BLOB.exec(name);
    if (TOP_FILES.has(name)) {
      if (result.files.has(name)) throw bad(`${name} appears twice`);
      result.files.set(name, await collect(source, name, header.size));
    } else if (blob) {
      const digest = `sha256:${blob[1]}`;
      if (result.blobs.has(digest)) throw bad(`blob ${digest} appears twice`);
      const file = path.join(blobDir, blob[1]!);
      await writeBlob(source, blob[1]!, header.size, file);
      result.blobs.set(digest, file);
    } else if (LEGACY_CONFIG.test(name) || LEGACY_LAYER.test(name)) {
      if (result.legacy.has(name)) throw bad(`${name} appears twice`);
      if (LEGACY_CONFIG.test(name) && header.size > MAX_JSON_BYTES) {
        throw bad(`${name} is ${header.size} bytes; the limit is ${MAX_JSON_BYTES}`);
      }
      const temp = path.join(dir, `member-${members}`);
      result.legacy.set(name, await writeLegacy(source, header.size, result, temp));
    } else if (LEGACY_V1.test(name)) {
      await source.skip(header.size);
    } else {
      throw bad(`unexpected member "${header.path}"`);
    }
  }
  await source.finish();
  if (members === 0) throw bad("the archive is empty");
  for (const [name, target] of aliases) {
    const digest = result.legacy.get(target);
    if (!digest) throw bad(`"${name}" links to "${target}", which is not in the archive`);
    result.legacy.set(name, digest);
  }
  return result;
}
