/** Media types of the OCI image spec and their Docker v2 schema-2 equivalents. */
export const MediaType = {
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  OciLayerNondistributableGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  OciEmpty: "application/vnd.oci.empty.v1+json",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  DockerSchema1Manifest: "application/vnd.docker.distribution.manifest.v1+json",
  DockerSchema1SignedManifest: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

export type MediaTypeName = (typeof MediaType)[keyof typeof MediaType];

/** Media types accepted as an image manifest (OCI or Docker schema 2). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];
/** Media types accepted as an image index (OCI index or Docker manifest list). */
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
/** Media types accepted as an image config. */
export const CONFIG_MEDIA_TYPES: readonly string[] = [MediaType.OciConfig, MediaType.DockerConfig];
/** Layer media types Berth can unpack, with their compression. */
export const LAYER_MEDIA_TYPES: Readonly<Record<string, "none" | "gzip">> = {
  [MediaType.OciLayer]: "none",
  [MediaType.OciLayerGzip]: "gzip",
  [MediaType.OciLayerNondistributableGzip]: "gzip",
  [MediaType.DockerLayerGzip]: "gzip",
  [MediaType.DockerForeignLayerGzip]: "gzip",
};
/** Docker's schema 1, which Berth refuses (deprecated, unsigned content). */
export const SCHEMA1_MEDIA_TYPES: readonly string[] = [
  MediaType.DockerSchema1Manifest,
  MediaType.DockerSchema1SignedManifest,
];

export function isManifestMediaType(mediaType: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(mediaType);
}

export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_MEDIA_TYPES.includes(mediaType);
}

/** Strips parameters and whitespace from a Content-Type header: `a/b; charset=x` → `a/b`. */
export function normalizeContentType(contentType: string): string {
  return contentType.split(";")[0]!.trim().toLowerCase();
}
