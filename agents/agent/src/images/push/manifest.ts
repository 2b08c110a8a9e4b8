import { createHash } from "node:crypto";
import { MediaType } from "@berth/oci";
import { hostPlatform } from "../pull/platform.ts";
import type { ImageRecord } from "../types.ts";

/** A JSON document as a blob: its exact bytes and their digest. */
export interface JsonBlob {
  bytes: Buffer;
  digest: string;
  size: number;
}

export interface LayerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export function jsonBlob(value: unknown): JsonBlob {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length };
}

/**
 * The OCI image config of a stored image: Berth keeps what containers need (env, cmd, entrypoint,
 * workdir, user), the host's platform, and the diff IDs of the blobs pushed. No `created` (the store
 * knows only when it got the image): the same image always gives the same config, so a pulled image
 * pushed elsewhere keeps its digest when its layers are reused.
 */
export function imageConfigBlob(record: ImageRecord, diffIds: string[]): JsonBlob {
  const { architecture, variant } = hostPlatform();
  const c = record.config;
  return jsonBlob({
    architecture,
    ...(variant ? { variant } : {}),
    os: "linux",
    config: {
      Env: c.env,
      ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
      ...(c.cmd ? { Cmd: c.cmd } : {}),
      ...(c.workdir ? { WorkingDir: c.workdir } : {}),
      ...(c.user ? { User: c.user } : {}),
    },
    rootfs: { type: "layers", diff_ids: diffIds },
  });
}

/** An OCI image manifest over a config and layers. */
export function imageManifestBlob(config: JsonBlob, layers: LayerDescriptor[]): JsonBlob {
  return jsonBlob({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
}
