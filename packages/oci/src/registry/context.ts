// Options of the registry handler and the per-request context its routes receive.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BlobStore } from "./blob-store.ts";
import type { RegistryMetadata } from "./metadata.ts";

export type RegistryAction = "pull" | "push" | "delete" | "catalog";

/**
 * What a request needs. `repository` is null for the API root (`GET /v2/`, action "pull") and for
 * the catalog (action "catalog").
 */
export interface RegistryAccess {
  repository: string | null;
  action: RegistryAction;
}

/** Pino-compatible subset. */
export interface RegistryLogger {
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export interface RegistryHandlerOptions {
  blobs: BlobStore;
  metadata: RegistryMetadata;
  /**
   * Resolves when the request may do `access`; throws a RegistryError (UNAUTHORIZED with a
   * WWW-Authenticate header, or DENIED) otherwise. Any other error becomes a 500.
   */
  authorize?(req: IncomingMessage, access: RegistryAccess): Promise<void>;
  /** Largest manifest accepted on PUT; default 4 MiB. */
  maxManifestBytes?: number;
  /** Largest page of tags or repositories; default 1000. */
  maxPageSize?: number;
  log?: RegistryLogger;
}

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  head: boolean;
  blobs: BlobStore;
  metadata: RegistryMetadata;
  maxManifestBytes: number;
  maxPageSize: number;
  authorize(access: RegistryAccess): Promise<void>;
}
