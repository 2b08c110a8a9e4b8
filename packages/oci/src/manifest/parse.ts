import type { z } from "zod";
import { OciError } from "../errors.ts";
import {
  INDEX_MEDIA_TYPES,
  isIndexMediaType,
  isManifestMediaType,
  MANIFEST_MEDIA_TYPES,
  MediaType,
  normalizeContentType,
  SCHEMA1_MEDIA_TYPES,
} from "./media-types.ts";
import {
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  imageConfigSchema,
  imageIndexSchema,
  imageManifestSchema,
} from "./schemas.ts";

/** Largest manifest or index Berth reads (the limit containerd and the distribution spec use). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest image config Berth reads. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** A parsed manifest, normalised over OCI and Docker schema 2 media types. */
export type ParsedManifest =
  | { kind: "manifest"; mediaType: string; manifest: ImageManifest }
  | { kind: "index"; mediaType: string; index: ImageIndex };

function decodeJson(bytes: Uint8Array, what: string, limit: number): unknown {
  if (bytes.byteLength > limit) {
    throw new OciError("InvalidArgument", `${what} is ${bytes.byteLength} bytes; the limit is ${limit}`);
  }
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (err) {
    throw new OciError("InvalidArgument", `${what} is not valid JSON`, { cause: err });
  }
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    throw new OciError("InvalidArgument", `invalid ${what}${where}: ${issue?.message ?? "bad shape"}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** The media type to use: the Content-Type if given, else the document's own `mediaType`. */
function resolveMediaType(json: unknown, contentType: string | undefined): string {
  const declared =
    typeof json === "object" &&
    json !== null &&
    typeof (json as { mediaType?: unknown }).mediaType === "string"
      ? (json as { mediaType: string }).mediaType
      : undefined;
  const header = contentType ? normalizeContentType(contentType) : "";
  if (header !== "" && header !== "application/json" && header !== "application/octet-stream") return header;
  if (declared) return declared;
  // An OCI manifest may omit mediaType: tell manifest from index by shape.
  if (typeof json === "object" && json !== null && "manifests" in json) return MediaType.OciIndex;
  return MediaType.OciManifest;
}

/**
 * Parses a manifest or index from its bytes. `contentType` is the HTTP
 * Content-Type (parameters ignored); when absent or generic, the document's
 * `mediaType` decides. Refuses schema 1, unknown media types, a body's
 * `mediaType` that contradicts the Content-Type, and more than 4 MiB.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  const json = decodeJson(bytes, "manifest", MAX_MANIFEST_BYTES);
  const mediaType = resolveMediaType(json, contentType);
  if (SCHEMA1_MEDIA_TYPES.includes(mediaType) || (json as { schemaVersion?: unknown })?.schemaVersion === 1) {
    throw new OciError(
      "InvalidArgument",
      `Docker image manifest schema 1 (${mediaType}) is not supported; push the image with schema 2 or OCI`,
    );
  }
  if (isManifestMediaType(mediaType)) {
    const manifest = validate(imageManifestSchema, json, "image manifest");
    checkDeclared(manifest.mediaType, mediaType);
    return { kind: "manifest", mediaType, manifest };
  }
  if (isIndexMediaType(mediaType)) {
    const index = validate(imageIndexSchema, json, "image index");
    checkDeclared(index.mediaType, mediaType);
    return { kind: "index", mediaType, index };
  }
  throw new OciError(
    "InvalidArgument",
    `unsupported manifest media type "${mediaType}"; supported: ${[...MANIFEST_MEDIA_TYPES, ...INDEX_MEDIA_TYPES].join(", ")}`,
  );
}

function checkDeclared(declared: string | undefined, mediaType: string): void {
  if (declared !== undefined && declared !== mediaType) {
    throw new OciError(
      "InvalidArgument",
      `manifest declares mediaType "${declared}" but was sent as "${mediaType}"`,
    );
  }
}

/** Parses an image config (OCI or Docker; the JSON is the same). */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  return validate(imageConfigSchema, decodeJson(bytes, "image config", MAX_CONFIG_BYTES), "image config");
}
