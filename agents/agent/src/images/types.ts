/** What an image asks of the containers made from it (a subset of the OCI image config). */
export interface ImageConfig {
  /** "KEY=value" entries. */
  env: string[];
  cmd: string[] | null;
  entrypoint: string[] | null;
  workdir: string | null;
  user: string | null;
}

/**
 * Where an image's original content is in the store's blobs: its manifest (the record's digest),
 * config and layer blobs, byte for byte as pulled, loaded or built. Push and save send these.
 */
export interface ImageContent {
  /** The manifest's media type (OCI or Docker schema 2) and size. */
  mediaType: string;
  size: number;
  /** The config blob's digest. */
  config: string;
  /** The manifest's layer blob digests, lowest first (one per entry of `layers`); may be absent from the store. */
  layerBlobs: string[];
}

/** An image record in the store: images/by-digest/<hex>.json. */
export interface ImageRecord {
  /** "sha256:<hex>". */
  digest: string;
  /** Normalised references ("name:tag") pointing at this image. */
  names: string[];
  /** Layer digests, lowest first. */
  layers: string[];
  config: ImageConfig;
  createdAt: string;
  /** Bytes of the layers' regular files. */
  size: number;
  /** The original manifest and config (absent for an imported root filesystem). */
  content?: ImageContent;
}

/** An image ready to run: its record plus where its layers are unpacked. */
export interface ResolvedImage {
  digest: string;
  names: string[];
  /** Absolute paths of the unpacked layers, lowest first. */
  layerDirs: string[];
  config: ImageConfig;
}
