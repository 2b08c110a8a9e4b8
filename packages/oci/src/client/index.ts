/** The registry client: pull manifests and blobs from any OCI Distribution registry. */
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
