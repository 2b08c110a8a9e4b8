// Just enough manifest parsing to find what a manifest references.
import { RegistryError } from "./errors.ts";
import { isSha256Digest } from "./names.ts";

export const mediaTypes = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

const imageManifestTypes = new Set<string>([mediaTypes.ociManifest, mediaTypes.dockerManifest]);
const indexTypes = new Set<string>([mediaTypes.ociIndex, mediaTypes.dockerManifestList]);
const schema1Types = new Set([
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);

export interface ManifestRefs {
  mediaType: string;
  blobs: string[];
  manifests: string[];
}

/**
 * Parses a manifest body. `contentType` is the request's Content-Type (without parameters), used when
 * the body carries no mediaType; when both are present they must agree.
 */
export function parseManifestRefs(body: Buffer, contentType: string | undefined): ManifestRefs {
  const json = parseJson(body);
  const bodyType = typeof json.mediaType === "string" ? json.mediaType : undefined;
  if ((contentType && schema1Types.has(contentType)) || json.schemaVersion === 1) {
    throw unsupported(contentType ?? "schema1", "Docker schema 1 manifests are not supported");
  }
  const mediaType = pickMediaType(bodyType, contentType, json);
  if (json.schemaVersion !== 2) throw invalid("schemaVersion must be 2");
  if (imageManifestTypes.has(mediaType)) {
    const config = descriptor(json.config, "config");
    if (!Array.isArray(json.layers)) throw invalid("layers must be an array");
    const layers = json.layers.map((layer, i) => descriptor(layer, `layers[${i}]`));
    return { mediaType, blobs: [config, ...layers], manifests: [] };
  }
  if (!Array.isArray(json.manifests)) throw invalid("manifests must be an array");
  const manifests = json.manifests.map((child, i) => descriptor(child, `manifests[${i}]`));
  return { mediaType, blobs: [], manifests };
}

function pickMediaType(bodyType: string | undefined, contentType: string | undefined, json: Json): string {
  const generic =
    !contentType || contentType === "application/json" || contentType === "application/octet-stream";
  if (bodyType && !generic && bodyType !== contentType) {
    throw invalid(`Content-Type ${contentType} differs from the manifest's mediaType ${bodyType}`);
  }
  const mediaType = bodyType ?? (generic ? guessMediaType(json) : contentType);
  if (!imageManifestTypes.has(mediaType) && !indexTypes.has(mediaType)) {
    throw unsupported(mediaType, `manifest media type ${mediaType} is not supported`);
  }
  return mediaType;
}

/** OCI allows mediaType to be absent; tell a manifest from an index by its fields. */
function guessMediaType(json: Json): string {
  return Array.isArray(json.manifests) ? mediaTypes.ociIndex : mediaTypes.ociManifest;
}

type Json = Record<string, unknown>;

function parseJson(body: Buffer): Json {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new RegistryError("MANIFEST_INVALID", "manifest is not valid JSON", { cause: error });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid("manifest must be a JSON object");
  }
  return value as Json;
}

function descriptor(value: unknown, where: string): string {
  const digest = (value as { digest?: unknown } | null)?.digest;
  if (typeof digest !== "string" || !isSha256Digest(digest)) {
    throw invalid(`${where} needs a sha256 digest`);
  }
  return digest;
}

function invalid(message: string): RegistryError {
  return new RegistryError("MANIFEST_INVALID", message);
}

function unsupported(mediaType: string, message: string): RegistryError {
  return new RegistryError("UNSUPPORTED", message, { status: 415, detail: { mediaType } });
}
