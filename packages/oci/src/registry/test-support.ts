// Test helpers: a real http server on 127.0.0.1 around the registry handler, over a temp directory.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobStore } from "./blob-store.ts";
import type { RegistryHandlerOptions } from "./context.ts";
import { createFsBlobStore } from "./fs-blob-store.ts";
import { createRegistryHandler } from "./handler.ts";
import { createMemoryRegistryMetadata, type RegistryMetadata } from "./metadata.ts";

export interface TestRegistry {
  url: string;
  host: string;
  root: string;
  blobs: BlobStore;
  metadata: RegistryMetadata;
  /** `METHOD url status` of every request served, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startTestRegistry(
  extra: Partial<Omit<RegistryHandlerOptions, "blobs" | "metadata">> = {},
): Promise<TestRegistry> {
  const root = await mkdtemp(join(tmpdir(), "berth-registry-"));
  const blobs = createFsBlobStore({ root });
  const metadata = createMemoryRegistryMetadata();
  const handler = createRegistryHandler({ blobs, metadata, ...extra });
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    res.on("finish", () => requests.push(`${req.method} ${req.url} ${res.statusCode}`));
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    root,
    blobs,
    metadata,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Pushes a blob monolithically; returns its digest. */
export async function pushBlob(url: string, name: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const res = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    body: new Uint8Array(data),
  });
  if (res.status !== 201) throw new Error(`pushing ${digest} to ${name}: ${res.status} ${await res.text()}`);
  return digest;
}

/** Builds an OCI image manifest over a config and layers already pushed (or not). */
export function imageManifest(config: Buffer, layers: Buffer[]): Buffer {
  const descriptor = (mediaType: string, data: Buffer) => ({
    mediaType,
    digest: sha256(data),
    size: data.length,
  });
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: descriptor("application/vnd.oci.image.config.v1+json", config),
      layers: layers.map((layer) => descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)),
    }),
  );
}

export async function putManifest(
  url: string,
  name: string,
  reference: string,
  body: Buffer,
): Promise<Response> {
  return fetch(`${url}/v2/${name}/manifests/${reference}`, {
    method: "PUT",
    headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    body: new Uint8Array(body),
  });
}

/** Pushes config, layers and manifest under `tag`; returns the manifest's digest. */
export async function pushImage(url: string, name: string, tag: string, seed: string): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed }));
  const layer = Buffer.from(`layer of ${seed}`);
  await pushBlob(url, name, config);
  await pushBlob(url, name, layer);
  const manifest = imageManifest(config, [layer]);
  const res = await putManifest(url, name, tag, manifest);
  if (res.status !== 201)
    throw new Error(`pushing manifest ${name}:${tag}: ${res.status} ${await res.text()}`);
  return sha256(manifest);
}

export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}
