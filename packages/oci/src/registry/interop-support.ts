// Helpers for interop tests with real registry clients (skopeo, podman): commands and an OCI layout.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { sha256 } from "./test-support.ts";

const run = promisify(execFile);

/** Runs a program; a failure throws one error carrying argv, exit code and the tail of stderr. */
export async function exec(argv: string[], timeoutMs = 60_000): Promise<string> {
  const [file, ...args] = argv;
  try {
    const { stdout } = await run(file!, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { code?: unknown; stderr?: string };
    const tail = (e.stderr ?? "").trim().split("\n").slice(-10).join("\n");
    throw new Error(`${argv.join(" ")} failed (exit ${String(e.code)}):\n${tail}`, { cause: error });
  }
}

/** Fails (never skips) when a peer the test needs is not installed. */
export async function requireProgram(name: string, install: string): Promise<void> {
  try {
    await run(name, ["--version"]);
  } catch (error) {
    throw new Error(`${name} is required for this interop test but is not runnable; install it: ${install}`, {
      cause: error,
    });
  }
}

export interface OciLayout {
  dir: string;
  manifestDigest: string;
  blobDigests: string[];
}

async function writeBlob(dir: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  await writeFile(join(dir, "blobs", "sha256", digest.slice(7)), data);
  return { digest, size: data.length };
}

/** Makes a root filesystem directory and packs it as an uncompressed tar with the `tar` binary. */
async function makeLayerTar(work: string, name: string, files: Record<string, string>): Promise<Buffer> {
  const root = join(work, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const tarPath = join(work, `${name}.tar`);
  await exec(["tar", "--sort=name", "--owner=0", "--group=0", "--mtime=@0", "-C", root, "-cf", tarPath, "."]);
  return readFile(tarPath);
}

/** Writes an OCI image layout with two gzip layers, a config and a manifest tagged `latest`. */
export async function makeOciLayout(): Promise<OciLayout> {
  const work = await mkdtemp(join(tmpdir(), "berth-layout-"));
  const dir = join(work, "layout");
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  const tars = [
    await makeLayerTar(work, "l1", { "etc/hostname": "berth\n", "bin/hello": "#!/bin/sh\necho hello\n" }),
    await makeLayerTar(work, "l2", { "app/data.txt": "x".repeat(200_000) }),
  ];
  const layers = [];
  for (const tar of tars) layers.push({ ...(await writeBlob(dir, gzipSync(tar))), diffId: sha256(tar) });
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["/bin/hello"] },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: [{ created_by: "berth test" }, { created_by: "berth test" }],
    }),
  );
  const configBlob = await writeBlob(dir, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configBlob },
      layers: layers.map(({ digest, size }) => ({
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        digest,
        size,
      })),
    }),
  );
  const manifestBlob = await writeBlob(dir, manifest);
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(join(dir, "index.json"), JSON.stringify(layoutIndex(manifestBlob, "latest")));
  return {
    dir,
    manifestDigest: manifestBlob.digest,
    blobDigests: [configBlob.digest, ...layers.map((l) => l.digest)],
  };
}

function layoutIndex(manifest: { digest: string; size: number }, tag: string): unknown {
  return {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        annotations: { "org.opencontainers.image.ref.name": tag },
      },
    ],
  };
}

/** The manifest digest index.json names for `tag` in an OCI layout. */
export async function layoutManifestDigest(dir: string, tag: string): Promise<string | undefined> {
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  return index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag)?.digest;
}

/** Reads a blob of an OCI layout. */
export function layoutBlob(dir: string, digest: string): Promise<Buffer> {
  return readFile(join(dir, "blobs", "sha256", digest.slice(7)));
}
