// GET/HEAD/DELETE /v2/<name>/blobs/<digest>
import type { RouteContext } from "./context.ts";
import { RegistryError } from "./errors.ts";
import { parseByteRange, send, sendStream } from "./http-util.ts";
import { assertDigest } from "./names.ts";

export async function getBlob(ctx: RouteContext, name: string, digest: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "pull" });
  assertDigest(digest);
  const info = (await ctx.metadata.hasBlob(name, digest)) ? await ctx.blobs.stat(digest) : undefined;
  if (!info)
    throw new RegistryError("BLOB_UNKNOWN", `blob ${digest} is unknown to ${name}`, { detail: { digest } });
  const range = parseByteRange(ctx.req.headers.range, info.size);
  const headers: Record<string, string | number> = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest,
    "Accept-Ranges": "bytes",
    ETag: `"${digest}"`,
  };
  if (range) {
    headers["Content-Range"] = `bytes ${range.start}-${range.end}/${info.size}`;
    headers["Content-Length"] = range.end - range.start + 1;
  } else {
    headers["Content-Length"] = info.size;
  }
  const body = await ctx.blobs.get(digest, range);
  if (!body) throw new RegistryError("BLOB_UNKNOWN", `blob ${digest} is unknown`, { detail: { digest } });
  await sendStream(ctx.res, range ? 206 : 200, headers, body, ctx.head);
}

/** Removes the repository's access to the blob; the content goes when garbage collection finds it unused. */
export async function deleteBlob(ctx: RouteContext, name: string, digest: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "delete" });
  assertDigest(digest);
  if (!(await ctx.metadata.unlinkBlob(name, digest))) {
    throw new RegistryError("BLOB_UNKNOWN", `blob ${digest} is unknown to ${name}`, { detail: { digest } });
  }
  send(ctx.res, 202, { "Docker-Content-Digest": digest });
}
