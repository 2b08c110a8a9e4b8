// Garbage collection: blobs no stored manifest references, and abandoned uploads.
import type { BlobStore } from "./blob-store.ts";
import type { RegistryMetadata } from "./metadata.ts";

export interface CollectGarbageOptions {
  blobs: BlobStore;
  metadata: RegistryMetadata;
  /**
   * Unreferenced blobs younger than this are kept, so a push whose blobs are uploaded but whose
   * manifest is not yet written survives. Default one hour.
   */
  blobGraceMs?: number;
  /** Uploads started longer ago than this are cancelled. Default 24 hours. */
  uploadMaxAgeMs?: number;
  /** Report what would be deleted without deleting it. */
  dryRun?: boolean;
  now?: Date;
}

export interface GarbageReport {
  blobsDeleted: number;
  bytesFreed: number;
  blobsKept: number;
  uploadsDeleted: number;
}

const hour = 60 * 60 * 1000;

export async function collectGarbage(options: CollectGarbageOptions): Promise<GarbageReport> {
  const now = (options.now ?? new Date()).getTime();
  const report: GarbageReport = { blobsDeleted: 0, bytesFreed: 0, blobsKept: 0, uploadsDeleted: 0 };
  const blobCutoff = now - (options.blobGraceMs ?? hour);
  const referenced = await options.metadata.referencedDigests();
  for await (const blob of options.blobs.list()) {
    if (referenced.has(blob.digest) || blob.modifiedAt.getTime() > blobCutoff) {
      report.blobsKept++;
      continue;
    }
    if (!options.dryRun) {
      await options.metadata.forgetBlob(blob.digest);
      await options.blobs.delete(blob.digest);
    }
    report.blobsDeleted++;
    report.bytesFreed += blob.size;
  }
  const uploadCutoff = now - (options.uploadMaxAgeMs ?? 24 * hour);
  for await (const upload of options.blobs.listUploads()) {
    if (upload.startedAt.getTime() > uploadCutoff) continue;
    if (!options.dryRun) await options.blobs.cancelUpload(upload.id);
    report.uploadsDeleted++;
  }
  return report;
}
