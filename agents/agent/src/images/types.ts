/** What an image asks of the containers made from it (a subset of the OCI image config). */
export interface ImageConfig {
  /** "KEY=value" entries. */
  env: string[];
  cmd: string[] | null;
  entrypoint: string[] | null;
  workdir: string | null;
  user: string | null;
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
}

/** An image ready to run: its record plus where its layers are unpacked. */
export interface ResolvedImage {
  digest: string;
  names: string[];
  /** Absolute paths of the unpacked layers, lowest first. */
  layerDirs: string[];
  config: ImageConfig;
}
