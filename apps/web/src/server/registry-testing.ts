// Test helpers: push a tiny image to a registry over its HTTP API, with credentials.
import { createHash, randomBytes } from "node:crypto";

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function basicAuth(username: string, secret: string): string {
  return `Basic ${Buffer.from(`${username}:${secret}`).toString("base64")}`;
}

export interface TinyImage {
  config: Buffer;
  layer: Buffer;
  manifest: Buffer;
  digests: { config: string; layer: string; manifest: string };
}

/** A one-layer OCI image with unique contents (its layer is random bytes, not a real tar). */
export function tinyImage(): TinyImage {
  const layer = randomBytes(64);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [sha256(layer)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha256(config),
        size: config.length,
      },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha256(layer), size: layer.length },
      ],
    }),
  );
  return {
    config,
    layer,
    manifest,
    digests: { config: sha256(config), layer: sha256(layer), manifest: sha256(manifest) },
  };
}

/** The status and the first error code of each request of a push, in order. */
export interface PushResult {
  ok: boolean;
  /** Status of the last request made (the first that failed, or the manifest PUT). */
  status: number;
  /** `errors[0].code` of the failed request's body. */
  code: string | null;
  wwwAuthenticate: string | null;
}

/**
 * Push `image` as `repository:tag`: each blob monolithically (POST with
 * `?digest=`), then the manifest. Stops at the first refusal.
 */
export async function pushImage(
  url: string,
  authorization: string | undefined,
  repository: string,
  tag: string,
  image: TinyImage = tinyImage(),
): Promise<PushResult> {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const fail = async (res: Response): Promise<PushResult> => {
    const body = (await res.json().catch(() => null)) as { errors?: { code: string }[] } | null;
    return {
      ok: false,
      status: res.status,
      code: body?.errors?.[0]?.code ?? null,
      wwwAuthenticate: res.headers.get("www-authenticate"),
    };
  };
  for (const blob of [image.config, image.layer]) {
    const res = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${sha256(blob)}`, {
      method: "POST",
      headers,
      body: new Uint8Array(blob),
    });
    if (res.status !== 201) return fail(res);
    await res.arrayBuffer();
  }
  const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/vnd.oci.image.manifest.v1+json" },
    body: new Uint8Array(image.manifest),
  });
  if (res.status !== 201) return fail(res);
  await res.arrayBuffer();
  return { ok: true, status: res.status, code: null, wwwAuthenticate: null };
}
