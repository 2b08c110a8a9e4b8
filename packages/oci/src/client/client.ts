import type { Readable } from "node:stream";
import { digestOf, isDigest, parseDigest } from "../digest/digest.ts";
import { OciError } from "../errors.ts";
import { normalizeContentType } from "../manifest/media-types.ts";
import { MAX_MANIFEST_BYTES } from "../manifest/parse.ts";
import { formatReference, type ImageReference } from "../ref/reference.ts";
import { checkedLength, type RegistryClientOptions, RegistryHttp } from "./http.ts";
import type { StreamReply } from "./node-http.ts";
import { type BlobSource, PushOperations, type UploadOptions, type UploadResult } from "./push.ts";

export type { RegistryClientOptions } from "./http.ts";

/** The repository part of a reference: `{ registry, repository }`. */
export type RepositoryRef = Pick<ImageReference, "registry" | "repository">;

export interface FetchedManifest {
  /** The digest of `bytes` (verified). */
  digest: string;
  /** The Content-Type the registry sent, without parameters. */
  mediaType: string;
  bytes: Buffer;
}

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface RegistryClient {
  /** A manifest or index by tag or digest, its digest verified against the bytes. */
  getManifest(ref: ImageReference, accept: readonly string[]): Promise<FetchedManifest>;
  /** A blob's bytes as they arrive (redirects followed); the caller verifies the digest while reading. */
  getBlob(repo: RepositoryRef, digest: string): Promise<{ stream: Readable; size: number | null }>;
  /** A blob's size, or NotFound. */
  headBlob(repo: RepositoryRef, digest: string): Promise<BlobInfo>;

  // Push (with a token for `repository:<name>:push,pull`):
  /** HEAD with push rights: the blob's size in the repository, or null when it lacks the blob. */
  blobExists(repo: RepositoryRef, digest: string): Promise<number | null>;
  /** Uploads a blob the repository lacks (HEAD first), mounting it from `options.mountFrom` when it can. */
  pushBlob(repo: RepositoryRef, blob: BlobSource, options?: UploadOptions): Promise<UploadResult>;
  /** Mounts a blob from another repository of the registry without uploading it: false when refused. */
  mountBlob(repo: RepositoryRef, digest: string, from: string): Promise<boolean>;
  /** Uploads a blob without asking first (a mount attempt when `options.mountFrom` is given). */
  uploadBlob(repo: RepositoryRef, blob: BlobSource, options?: UploadOptions): Promise<UploadResult>;
  /** PUTs a manifest or index under the reference's tag (or digest); returns its digest. */
  putManifest(ref: ImageReference, mediaType: string, bytes: Buffer): Promise<string>;
}

async function readLimited(res: StreamReply, max: number, what: string): Promise<Buffer> {
  checkedLength(res, max, what);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) throw new OciError("InvalidArgument", `${what} exceeds ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The digest the bytes must have: the reference's, else the registry's Docker-Content-Digest. */
function expectedDigest(ref: ImageReference, res: StreamReply, what: string): string | undefined {
  if (ref.digest) return ref.digest;
  const header = res.headers.get("docker-content-digest")?.trim();
  if (!header) return undefined;
  if (!isDigest(header))
    throw new OciError("InvalidArgument", `${what}: bad Docker-Content-Digest "${header}"`);
  return header;
}

function verifyManifest(bytes: Buffer, expected: string | undefined, what: string): string {
  const algorithm = expected ? parseDigest(expected).algorithm : "sha256";
  const actual = digestOf(bytes, algorithm);
  if (expected && actual !== expected) {
    throw new OciError("InvalidArgument", `${what}: digest mismatch: expected ${expected}, got ${actual}`);
  }
  return algorithm === "sha256" ? actual : digestOf(bytes);
}

function checkBlobDigest(digest: string): void {
  if (!isDigest(digest)) throw new OciError("InvalidArgument", `"${digest}" is not a digest`);
}

/** A client for the OCI Distribution API: pull and push manifests and blobs, anonymous or authenticated. */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const http = new RegistryHttp(options);
  const push = new PushOperations(http);
  return {
    blobExists: (repo, digest) => push.blobExists(repo, digest),
    pushBlob: (repo, blob, opts) => push.pushBlob(repo, blob, opts),
    mountBlob: (repo, digest, from) => push.mountBlob(repo, digest, from),
    uploadBlob: (repo, blob, opts) => push.uploadBlob(repo, blob, opts),
    putManifest: (ref, mediaType, bytes) => push.putManifest(ref, mediaType, bytes),
    async getManifest(ref, accept) {
      const what = `manifest ${formatReference(ref)}`;
      const res = await http.stream({
        registry: ref.registry,
        repository: ref.repository,
        path: `manifests/${ref.digest ?? ref.tag ?? "latest"}`,
        headers: { accept: accept.join(", ") },
        what,
      });
      const expected = expectedDigest(ref, res, what);
      const bytes = await readLimited(res, MAX_MANIFEST_BYTES, what);
      const digest = verifyManifest(bytes, expected, what);
      return {
        digest: expected ?? digest,
        mediaType: normalizeContentType(res.headers.get("content-type") ?? ""),
        bytes,
      };
    },

    async getBlob(repo, digest) {
      checkBlobDigest(digest);
      const res = await http.stream({
        ...repo,
        path: `blobs/${digest}`,
        what: `blob ${digest.slice(0, 19)} of ${repo.registry}/${repo.repository}`,
      });
      const length = res.headers.get("content-length");
      return { stream: res.body, size: length === null ? null : Number(length) };
    },

    async headBlob(repo, digest) {
      checkBlobDigest(digest);
      const res = await http.request({
        ...repo,
        path: `blobs/${digest}`,
        method: "HEAD",
        what: `blob ${digest.slice(0, 19)} of ${repo.registry}/${repo.repository}`,
      });
      return { digest, size: Number(res.headers.get("content-length") ?? "0") };
    },
  };
}
