// The public surface of @berth/oci; each module adds its exports here by name.

export {
  apiHost,
  type BlobSource,
  type Challenge,
  type Credentials,
  createRegistryClient,
  type FetchedManifest,
  isLoopbackRegistry,
  parseChallenge,
  type RegistryBlobInfo,
  type RegistryClient,
  type RegistryClientOptions,
  type RepositoryRef,
  type UploadOptions,
  type UploadResult,
} from "./client/index.ts";
export {
  assertDigest,
  createDigester,
  type DigestAlgorithm,
  Digester,
  digestOf,
  isDigest,
  type ParsedDigest,
  parseDigest,
  type VerifyOptions,
  verifyDigest,
} from "./digest/digest.ts";
export { isOciError, OCI_ERROR_CODES, OciError, type OciErrorCode } from "./errors.ts";
export { EventLoopTurns } from "./event-loop-turns.ts";
export { STREAMING_HEAP_GROWING_PERCENT, withGcHeadroom } from "./gc-headroom.ts";
export { ByteSource } from "./layer/byte-source.ts";
export { type Compression, coalesce, detectCompression, GUNZIP_INPUT_BYTES } from "./layer/decompress.ts";
export {
  type LayerTarOptions,
  layerTar,
  measureLayerTar,
  parseGetfattr,
  readXattrs,
  type XattrMap,
} from "./layer/layer-tar.ts";
export { readTar, type TarEntryType, type TarHeader, tarEntryName } from "./layer/tar-reader.ts";
export {
  END_OF_ARCHIVE,
  entryHeader,
  padding as tarPadding,
  paddingBlock,
  type TarWriterEntry,
  type TarWriterType,
} from "./layer/tar-writer.ts";
export { type UnpackOptions, type UnpackResult, unpackLayer } from "./layer/unpack.ts";
export { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, type WhiteoutMode } from "./layer/whiteout.ts";
export {
  CONFIG_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  isIndexMediaType,
  isManifestMediaType,
  LAYER_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MediaType,
  type MediaTypeName,
  normalizeContentType,
  SCHEMA1_MEDIA_TYPES,
} from "./manifest/media-types.ts";
export {
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  type ParsedManifest,
  parseImageConfig,
  parseManifest,
} from "./manifest/parse.ts";
export {
  type ContainerConfig,
  containerConfigSchema,
  type Descriptor,
  descriptorSchema,
  digestSchema,
  type History,
  historySchema,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  imageConfigSchema,
  imageIndexSchema,
  imageManifestSchema,
  type Platform,
  platformSchema,
} from "./manifest/schemas.ts";
export {
  DEFAULT_REGISTRY,
  DEFAULT_TAG,
  familiarName,
  familiarString,
  formatReference,
  type ImageReference,
  NAME_MAX_LENGTH,
  parseReference,
} from "./ref/reference.ts";
export type { BlobInfo, BlobStore, ByteRange, UploadInfo } from "./registry/blob-store.ts";
export type {
  RegistryAccess,
  RegistryAction,
  RegistryHandlerOptions,
  RegistryLogger,
} from "./registry/context.ts";
export {
  isRegistryError,
  RegistryError,
  type RegistryErrorCode,
  type RegistryErrorOptions,
  registryErrorStatus,
} from "./registry/errors.ts";
export { createFsBlobStore, type FsBlobStoreOptions } from "./registry/fs-blob-store.ts";
export { type CollectGarbageOptions, collectGarbage, type GarbageReport } from "./registry/gc.ts";
export { createRegistryHandler } from "./registry/handler.ts";
export {
  createMemoryRegistryMetadata,
  type ListPage,
  type ManifestRecord,
  type RegistryMetadata,
} from "./registry/metadata.ts";
export { isRepositoryName } from "./registry/names.ts";
