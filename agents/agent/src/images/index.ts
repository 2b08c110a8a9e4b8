/** The local image store (content-addressed blobs, layers unpacked once per diff ID, image records) and container root filesystems. */
export { readJson, withLockFile, writeFileAtomic } from "./atomic.ts";
export type { BlobFile, BlobStore, StoreSettings } from "./blobs.ts";
export { storedLayerBlob } from "./content.ts";
export type { PruneOptions, PruneReport } from "./gc.ts";
export { type LoadEvent, type LoadedImage, loadImages } from "./layout/load.ts";
export { type SavedImage, saveImages } from "./layout/save.ts";
export { type LayerStatus, type ProgressListener, type PullEvent, shortLayerId } from "./pull/events.ts";
export {
  formatPlatform,
  hostPlatform,
  type PlatformSpec,
  parsePlatform,
} from "./pull/platform.ts";
export { type PullOptions, type PullResult, pullImage } from "./pull/pull.ts";
export {
  DEFAULT_TAG,
  digestHex,
  type ImageRef,
  MIN_DIGEST_PREFIX,
  normalizeName,
  parseImageRef,
} from "./reference.ts";
export { isMounted, type MountRootfsInput, mountRootfs, overlayOptions, unmountRootfs } from "./rootfs.ts";
export {
  createImageStore,
  DEFAULT_IMAGE_PATH,
  type ImageStore,
  type ImportOptions,
  type NewImage,
  type RemoveOptions,
  type RemoveResult,
} from "./store.ts";
export type { ImageConfig, ImageContent, ImageRecord, ResolvedImage } from "./types.ts";
