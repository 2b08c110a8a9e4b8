// PUT/GET/HEAD/DELETE /v2/<name>/manifests/<reference>
import { createHash } from "node:crypto";
import type { RouteContext } from "./context.ts";
import { RegistryError } from "./errors.ts";
import { mediaTypeOf, readBody, send, sendStream } from "./http-util.ts";
import { parseManifestRefs } from "./manifest-refs.ts";
import type { ManifestRecord } from "./metadata.ts";
import { assertDigest, isTag, looksLikeDigest } from "./names.ts";

type Reference = { tag: string } | { digest: string };

function parseReference(reference: string): Reference {
  if (isTag(reference)) return { tag: reference };
  if (looksLikeDigest(reference)) return { digest: assertDigest(reference) };
  throw new RegistryError("MANIFEST_INVALID", `invalid tag or digest "${reference}"`, { status: 400 });
}

function manifestUnknown(name: string, reference: string): RegistryError {
  return new RegistryError("MANIFEST_UNKNOWN", `manifest ${reference} is unknown to ${name}`, {
    detail: { name, reference },
  });
}

async function resolve(ctx: RouteContext, name: string, reference: string): Promise<ManifestRecord> {
  const ref = parseReference(reference);
  const digest = "tag" in ref ? await ctx.metadata.resolveTag(name, ref.tag) : ref.digest;
  const record = digest === undefined ? undefined : await ctx.metadata.getManifest(name, digest);
  if (!record) throw manifestUnknown(name, reference);
  return record;
}

export async function getManifest(ctx: RouteContext, name: string, reference: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "pull" });
  const record = await resolve(ctx, name, reference);
  const body = await ctx.blobs.get(record.digest);
  if (!body) throw manifestUnknown(name, reference);
  const headers = {
    "Content-Type": record.mediaType,
    "Content-Length": record.size,
    "Docker-Content-Digest": record.digest,
    ETag: `"${record.digest}"`,
  };
  await sendStream(ctx.res, 200, headers, body, ctx.head);
}

export async function putManifest(ctx: RouteContext, name: string, reference: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "push" });
  const ref = parseReference(reference);
  const body = await readBody(ctx.req, ctx.maxManifestBytes);
  const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
  if ("digest" in ref && ref.digest !== digest) {
    throw new RegistryError("DIGEST_INVALID", `manifest digest ${digest} does not match ${ref.digest}`, {
      detail: { expected: ref.digest, actual: digest },
    });
  }
  const refs = parseManifestRefs(body, mediaTypeOf(ctx.req.headers["content-type"]));
  await checkReferences(ctx, name, refs.blobs, refs.manifests);
  await ctx.blobs.put(digest, body);
  const record: ManifestRecord = { digest, size: body.length, ...refs };
  await ctx.metadata.putManifest(name, record, "tag" in ref ? ref.tag : undefined);
  send(ctx.res, 201, { Location: `/v2/${name}/manifests/${digest}`, "Docker-Content-Digest": digest });
}

async function checkReferences(ctx: RouteContext, name: string, blobs: string[], manifests: string[]) {
  const missing: string[] = [];
  for (const digest of blobs) {
    const known = (await ctx.metadata.hasBlob(name, digest)) && (await ctx.blobs.exists(digest));
    if (!known) missing.push(digest);
  }
  for (const digest of manifests) {
    if (!(await ctx.metadata.getManifest(name, digest))) missing.push(digest);
  }
  if (missing.length > 0) {
    throw new RegistryError(
      "MANIFEST_BLOB_UNKNOWN",
      `manifest references unknown content: ${missing.join(", ")}`,
      {
        detail: { missing },
      },
    );
  }
}

/** DELETE by digest removes the manifest and its tags; by tag removes only the tag. */
export async function deleteManifest(ctx: RouteContext, name: string, reference: string): Promise<void> {
  await ctx.authorize({ repository: name, action: "delete" });
  const ref = parseReference(reference);
  const deleted =
    "tag" in ref
      ? await ctx.metadata.deleteTag(name, ref.tag)
      : await ctx.metadata.deleteManifest(name, ref.digest);
  if (!deleted) throw manifestUnknown(name, reference);
  send(ctx.res, 202);
}
