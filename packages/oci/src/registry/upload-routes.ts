// /v2/<name>/blobs/uploads/: monolithic and chunked uploads, cross-repository mount.
import type { UploadInfo } from "./blob-store.ts";
import type { RouteContext } from "./context.ts";
import { RegistryError } from "./errors.ts";
import { drain, hasBody, parseContentRange, send, uploadRange } from "./http-util.ts";
import { assertDigest, isRepositoryName } from "./names.ts";

/** POST: mount from another repository, a monolithic upload with ?digest=, or a new session. */
export async function startUpload(ctx: RouteContext, name: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "push" });
  const mount = ctx.url.searchParams.get("mount");
  const digest = ctx.url.searchParams.get("digest");
  if (mount !== null && (await tryMount(ctx, name, assertDigest(mount)))) return;
  if (digest !== null && mount === null) {
    await ctx.blobs.put(assertDigest(digest), ctx.req);
    await created(ctx, name, digest);
    return;
  }
  await drain(ctx.req);
  const upload = await ctx.blobs.startUpload(name);
  sendProgress(ctx, name, upload);
}

async function tryMount(ctx: RouteContext, name: string, digest: string): Promise<boolean> {
  const from = ctx.url.searchParams.get("from");
  if (from === null || !isRepositoryName(from)) return false;
  try {
    await ctx.authorize({ repository: from, action: "pull" });
  } catch {
    return false; // no right to read the source: the client uploads the blob instead
  }
  if (!(await ctx.metadata.hasBlob(from, digest)) || !(await ctx.blobs.exists(digest))) return false;
  await drain(ctx.req);
  await created(ctx, name, digest);
  return true;
}

async function created(ctx: RouteContext, name: string, digest: string): Promise<void> {
  await ctx.metadata.linkBlob(name, digest);
  send(ctx.res, 201, { Location: `/v2/${name}/blobs/${digest}`, "Docker-Content-Digest": digest });
}

function sendProgress(ctx: RouteContext, name: string, upload: UploadInfo, status = 202): void {
  send(ctx.res, status, {
    Location: `/v2/${name}/blobs/uploads/${upload.id}`,
    "Docker-Upload-UUID": upload.id,
    Range: uploadRange(upload.offset),
  });
}

async function requireUpload(ctx: RouteContext, name: string, id: string): Promise<UploadInfo> {
  const upload = await ctx.blobs.getUpload(id);
  if (!upload || upload.repository !== name) {
    throw new RegistryError("BLOB_UPLOAD_UNKNOWN", `upload ${id} is unknown to ${name}`);
  }
  return upload;
}

/** PATCH: a chunk with Content-Range (must start where the upload is), or a streamed body without it. */
export async function patchUpload(ctx: RouteContext, name: string, id: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "push" });
  const upload = await requireUpload(ctx, name, id);
  const range = parseContentRange(ctx.req.headers["content-range"]);
  if (range) checkChunkLength(ctx, range);
  const updated = await ctx.blobs.appendUpload(id, ctx.req, range?.start);
  if (range && updated.offset !== range.end + 1) {
    throw new RegistryError("BLOB_UPLOAD_INVALID", `chunk ended at ${updated.offset - 1}, not ${range.end}`);
  }
  sendProgress(ctx, name, { ...upload, offset: updated.offset });
}

function checkChunkLength(ctx: RouteContext, range: { start: number; end: number }): void {
  const length = ctx.req.headers["content-length"];
  if (length !== undefined && Number(length) !== range.end - range.start + 1) {
    throw new RegistryError(
      "BLOB_UPLOAD_INVALID",
      `Content-Length ${length} does not match the Content-Range`,
    );
  }
}

/** PUT ?digest=: the optional last chunk, then verify and commit. */
export async function completeUpload(ctx: RouteContext, name: string, id: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "push" });
  const digestParam = ctx.url.searchParams.get("digest");
  if (digestParam === null) throw new RegistryError("DIGEST_INVALID", "PUT needs ?digest=");
  const digest = assertDigest(digestParam);
  await requireUpload(ctx, name, id);
  if (hasBody(ctx.req)) {
    const range = parseContentRange(ctx.req.headers["content-range"]);
    await ctx.blobs.appendUpload(id, ctx.req, range?.start);
  } else {
    await drain(ctx.req);
  }
  await ctx.blobs.completeUpload(id, digest);
  await created(ctx, name, digest);
}

/** GET: where the upload is. */
export async function uploadStatus(ctx: RouteContext, name: string, id: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "push" });
  sendProgress(ctx, name, await requireUpload(ctx, name, id), 204);
}

/** DELETE: abandon the upload. */
export async function cancelUpload(ctx: RouteContext, name: string, id: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "push" });
  await requireUpload(ctx, name, id);
  await ctx.blobs.cancelUpload(id);
  send(ctx.res, 204);
}
