// Where the registry keeps content: blobs by digest, and upload sessions in progress.
import type { Readable } from "node:stream";

export interface BlobInfo {
  digest: string;
  size: number;
  /** When the blob was committed (used by garbage collection's grace period). */
  modifiedAt: Date;
}

/** Inclusive byte range, already validated against the blob's size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface UploadInfo {
  id: string;
  repository: string;
  /** Bytes received so far. */
  offset: number;
  startedAt: Date;
}

/**
 * Content-addressed blob storage. Every write verifies its digest before the blob becomes visible:
 * a mismatch stores nothing and throws DIGEST_INVALID. Digests are `sha256:<hex>`.
 */
export interface BlobStore {
  stat(digest: string): Promise<BlobInfo | undefined>;
  exists(digest: string): Promise<boolean>;
  /** A stream of the blob's bytes, or of `range` only; undefined if the blob is unknown. */
  get(digest: string, range?: ByteRange): Promise<Readable | undefined>;
  /** Stores `body` under `digest` after verifying it; `maxBytes` bounds the body (SIZE_INVALID). */
  put(digest: string, body: Readable | Buffer, options?: { maxBytes?: number }): Promise<BlobInfo>;
  /** True when the blob existed. */
  delete(digest: string): Promise<boolean>;
  /** Every stored blob (for garbage collection). */
  list(): AsyncIterable<BlobInfo>;

  startUpload(repository: string): Promise<UploadInfo>;
  getUpload(id: string): Promise<UploadInfo | undefined>;
  /**
   * Appends `body` to the upload. When `expectedOffset` is given and differs from the upload's
   * offset, throws RANGE_INVALID (416) and appends nothing. Returns the new state.
   */
  appendUpload(id: string, body: Readable, expectedOffset?: number): Promise<UploadInfo>;
  /** Verifies the upload's content against `digest`, commits it as a blob and ends the session. */
  completeUpload(id: string, digest: string): Promise<BlobInfo>;
  /** True when the upload existed. */
  cancelUpload(id: string): Promise<boolean>;
  listUploads(): AsyncIterable<UploadInfo>;
}
