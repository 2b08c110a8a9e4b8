/** The registry client: pull and push manifests and blobs with any OCI Distribution registry. */
export { type Challenge, type Credentials, parseChallenge } from "./auth.ts";
export {
  type BlobInfo as RegistryBlobInfo,
  createRegistryClient,
  type FetchedManifest,
  type RegistryClient,
  type RegistryClientOptions,
  type RepositoryRef,
} from "./client.ts";
export { apiHost, isLoopbackRegistry } from "./http.ts";
export type { BlobSource, UploadOptions, UploadResult } from "./push.ts";
