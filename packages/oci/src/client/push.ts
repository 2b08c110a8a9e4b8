// The push side of the registry client: blob existence, cross-repository mount, uploads, manifest PUT.
import { digestOf, isDigest, parseDigest } from "../digest/digest.ts";
import { OciError } from "../errors.ts";
import { formatReference, type ImageReference } from "../ref/reference.ts";
import type { RepositoryRef } from "./client.ts";
import { pullScope, pushScope, type RegistryHttp, type RequestBody } from "./http.ts";

/** A blob to push: its digest and size, and its bytes (opened afresh on each call). */
export interface BlobSource {
  digest: string;
  size: number;
  open(): Buffer | AsyncIterable<Uint8Array>;
}

export interface UploadOptions {
  /** Another repository on the same registry known to hold the blob: the registry is asked to mount it. */
  mountFrom?: string;
  /**
   * "monolithic": POST, then one PUT with the bytes and the digest; "streamed": POST, PATCH with the
   * bytes, then PUT with the digest. Default: monolithic up to 1 MiB, streamed above.
   */
  method?: "monolithic" | "streamed";
  /** Bytes sent so far, as they go. */
  onProgress?(sent: number, total: number): void;
}

/** What an upload did: the registry had the blob, mounted it from another repository, or took its bytes. */
export type UploadResult = "exists" | "mounted" | "uploaded";

const MONOLITHIC_MAX_BYTES = 1024 * 1024;
const PROGRESS_STEP_BYTES = 256 * 1024;

const short = (digest: string) => digest.slice(0, 19);

function checkDigest(digest: string): void {
  if (!isDigest(digest)) throw new OciError("InvalidArgument", `"${digest}" is not a digest`);
}

/** The Location of an upload session, absolute, with `params` added to its query. */
function sessionUrl(res: Response, requestUrl: string, params: Record<string, string> = {}): string {
  const location = res.headers.get("location");
  if (!location)
    throw new OciError("Unavailable", `${new URL(requestUrl).host}: upload answered without Location`);
  const url = new URL(location, requestUrl);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

/** The blob's bytes, counted for `onProgress`. */
function counted(blob: BlobSource, onProgress: UploadOptions["onProgress"]): RequestBody {
  return () => {
    const bytes = blob.open();
    if (!onProgress) return bytes;
    if (Buffer.isBuffer(bytes)) {
      onProgress(bytes.length, blob.size);
      return bytes;
    }
    return (async function* () {
      let sent = 0;
      let reported = 0;
      for await (const chunk of bytes) {
        sent += chunk.byteLength;
        if (sent - reported >= PROGRESS_STEP_BYTES || sent === blob.size) {
          reported = sent;
          onProgress(sent, blob.size);
        }
        yield chunk;
      }
    })();
  };
}

export class PushOperations {
  readonly #http: RegistryHttp;

  constructor(http: RegistryHttp) {
    this.#http = http;
  }

  /** HEAD: the blob's size in the repository, or null when the repository does not have it. */
  async blobExists(repo: RepositoryRef, digest: string, scopes?: readonly string[]): Promise<number | null> {
    checkDigest(digest);
    try {
      const res = await this.#http.request({
        ...repo,
        path: `blobs/${digest}`,
        method: "HEAD",
        scopes: scopes ?? [pushScope(repo.repository)],
        what: `blob ${short(digest)} of ${repo.registry}/${repo.repository}`,
      });
      return Number(res.headers.get("content-length") ?? "0");
    } catch (err) {
      if (err instanceof OciError && err.code === "NotFound") return null;
      throw err;
    }
  }

  /** Pushes a blob unless the repository has it: a mount when `mountFrom` is given, else its bytes. */
  async pushBlob(repo: RepositoryRef, blob: BlobSource, options: UploadOptions = {}): Promise<UploadResult> {
    const scopes = this.#scopes(repo, options.mountFrom);
    if ((await this.blobExists(repo, blob.digest, scopes)) !== null) return "exists";
    return this.uploadBlob(repo, blob, options);
  }

  /**
   * Asks the registry to mount a blob from another of its repositories, without uploading: true when
   * it did; false when it would not (the upload session it opened instead is cancelled).
   */
  async mountBlob(repo: RepositoryRef, digest: string, from: string): Promise<boolean> {
    checkDigest(digest);
    const what = `mount of blob ${short(digest)} from ${from} to ${repo.registry}/${repo.repository}`;
    const scopes = this.#scopes(repo, from);
    const res = await this.#http.request({
      ...repo,
      path: `blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      method: "POST",
      headers: { "content-length": "0" },
      scopes,
      what,
    });
    await res.body?.cancel();
    if (res.status === 201) return true;
    if (res.headers.get("location")) {
      const session = sessionUrl(
        res,
        res.url || this.#http.url(repo.registry, repo.repository, "blobs/uploads/"),
      );
      await this.#http
        .request({ ...repo, path: session, method: "DELETE", scopes, what })
        .then((r) => r.body?.cancel())
        .catch(() => {}); // an abandoned session expires on its own
    }
    return false;
  }

  /** Uploads a blob (after a mount attempt when `mountFrom` is given); the registry verifies the digest. */
  async uploadBlob(
    repo: RepositoryRef,
    blob: BlobSource,
    options: UploadOptions = {},
  ): Promise<UploadResult> {
    checkDigest(blob.digest);
    const scopes = this.#scopes(repo, options.mountFrom);
    const what = `upload of blob ${short(blob.digest)} to ${repo.registry}/${repo.repository}`;
    const mount = options.mountFrom !== undefined && options.mountFrom !== repo.repository;
    const query = mount
      ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(options.mountFrom!)}`
      : "";
    const started = await this.#http.request({
      ...repo,
      path: `blobs/uploads/${query}`,
      method: "POST",
      headers: { "content-length": "0" },
      scopes,
      what,
    });
    await started.body?.cancel();
    if (started.status === 201 && mount) return "mounted";
    if (started.status !== 202) {
      throw new OciError("Unavailable", `${repo.registry}: ${what}: unexpected status ${started.status}`);
    }
    const postUrl = started.url || this.#http.url(repo.registry, repo.repository, "blobs/uploads/");
    const body = counted(blob, options.onProgress);
    const bodyHeaders = {
      "content-type": "application/octet-stream",
      "content-length": String(blob.size),
    };
    const method = options.method ?? (blob.size <= MONOLITHIC_MAX_BYTES ? "monolithic" : "streamed");
    let putUrl: string;
    let putInit: { body?: RequestBody; headers: Record<string, string> };
    if (method === "monolithic") {
      putUrl = sessionUrl(started, postUrl, { digest: blob.digest });
      putInit = { body, headers: bodyHeaders };
    } else {
      const patchUrl = sessionUrl(started, postUrl);
      const patched = await this.#http.request({
        ...repo,
        path: patchUrl,
        method: "PATCH",
        headers: bodyHeaders,
        body,
        scopes,
        what,
      });
      await patched.body?.cancel();
      putUrl = sessionUrl(patched, patchUrl, { digest: blob.digest });
      putInit = { headers: { "content-length": "0" } };
    }
    const done = await this.#http.request({ ...repo, path: putUrl, method: "PUT", scopes, what, ...putInit });
    await done.body?.cancel();
    const stored = done.headers.get("docker-content-digest");
    if (stored && stored !== blob.digest) {
      throw new OciError("InvalidArgument", `${repo.registry}: ${what}: the registry stored ${stored}`);
    }
    return "uploaded";
  }

  /** PUTs a manifest (or index) by tag or digest; returns its digest. */
  async putManifest(ref: ImageReference, mediaType: string, bytes: Buffer): Promise<string> {
    const digest = digestOf(bytes, ref.digest ? parseDigest(ref.digest).algorithm : "sha256");
    if (ref.digest && ref.digest !== digest) {
      throw new OciError("InvalidArgument", `manifest bytes have digest ${digest}, not ${ref.digest}`);
    }
    const what = `manifest ${formatReference(ref)}`;
    const res = await this.#http.request({
      registry: ref.registry,
      repository: ref.repository,
      path: `manifests/${ref.digest ?? ref.tag ?? "latest"}`,
      method: "PUT",
      headers: { "content-type": mediaType },
      body: () => bytes,
      scopes: [pushScope(ref.repository)],
      what,
    });
    await res.body?.cancel();
    const stored = res.headers.get("docker-content-digest");
    if (stored && stored !== digest) {
      throw new OciError("InvalidArgument", `${ref.registry}: ${what}: the registry stored ${stored}`);
    }
    return digest;
  }

  #scopes(repo: RepositoryRef, mountFrom: string | undefined): string[] {
    const scopes = [pushScope(repo.repository)];
    if (mountFrom !== undefined && mountFrom !== repo.repository) scopes.push(pullScope(mountFrom));
    return scopes;
  }
}
