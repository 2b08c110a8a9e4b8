// Test helpers: Debian's docker-registry on loopback and an OCI layout with a real busybox layer, pushed by skopeo.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { runProgram } from "../../exec.ts";
import { makeBusyboxRootfs } from "../../testing/busybox.ts";
import { ingestDirectory } from "../layers.ts";
import { hostPlatform } from "./platform.ts";

const REGISTRY = "/usr/bin/docker-registry";

/** Fails (never skips) when a peer is missing, saying how to install it. */
export async function requirePeer(program: string, args: string[], install: string): Promise<void> {
  try {
    await runProgram(program, args);
  } catch (err) {
    throw new Error(
      `${program} is required by this interop test and is not runnable; install it: ${install}`,
      {
        cause: err,
      },
    );
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RegistryPeer {
  /** "127.0.0.1:<port>" */
  host: string;
  /** Where it keeps what was pushed. */
  dataDir: string;
  /** Access-log lines so far (requests the registry served). */
  requests(): string[];
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${output()}`);
    const ok = await fetch(url).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after 15 s waiting for docker-registry to answer ${url}: ${output()}`);
}

/** Starts `docker-registry serve` on 127.0.0.1 with filesystem storage in a temp dir (no auth). */
export async function startRegistryPeer(): Promise<RegistryPeer> {
  await requirePeer(REGISTRY, ["--version"], "apt-get install -y docker-registry");
  const dir = await mkdtemp(path.join(tmpdir(), "berth-registry-"));
  const host = `127.0.0.1:${await freePort()}`;
  const config = path.join(dir, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: info",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${path.join(dir, "data")}`,
      "http:",
      `  addr: ${host}`,
      "",
    ].join("\n"),
  );
  const child = spawn(REGISTRY, ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  await waitReady(`http://${host}/v2/`, child, () => output.slice(-2000));
  return {
    host,
    dataDir: path.join(dir, "data"),
    requests: () => output.split("\n").filter((l) => /"(GET|HEAD|PUT|POST|PATCH) \/v2\//.test(l)),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TestImage {
  layout: string;
  /** Blob digests of the layers, lowest first. */
  layerDigests: string[];
  diffIds: string[];
  /** The busybox rootfs, to import and compare with. */
  rootfs: string;
  work: string;
}

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

async function writeBlob(layout: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  await writeFile(path.join(layout, "blobs", "sha256", digest.slice(7)), data);
  return { digest, size: data.length };
}

/** A second layer: adds /etc/motd and deletes /etc/group with a whiteout. */
async function whiteoutLayer(work: string): Promise<Buffer> {
  const root = path.join(work, "layer2");
  await mkdir(path.join(root, "etc"), { recursive: true });
  await writeFile(path.join(root, "etc", "motd"), "pulled by berth\n");
  await writeFile(path.join(root, "etc", ".wh.group"), "");
  const tar = path.join(work, "layer2.tar");
  await runProgram("tar", [
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--mtime=@0",
    "-C",
    root,
    "-cf",
    tar,
    ".",
  ]);
  return readFile(tar);
}

/**
 * An OCI layout tagged "1": a gzip busybox layer (tarred exactly as
 * `berth-agent import` tars a directory, so both get the same diff ID) and
 * an uncompressed whiteout layer.
 */
export async function makeBusyboxLayout(): Promise<TestImage> {
  const work = await mkdtemp(path.join(tmpdir(), "berth-pull-image-"));
  const rootfs = await makeBusyboxRootfs(path.join(work, "rootfs"));
  const layout = path.join(work, "layout");
  await mkdir(path.join(layout, "blobs", "sha256"), { recursive: true });
  const ingested = await ingestDirectory(rootfs, work);
  const tar1 = await readFile(ingested.tarFile);
  const tar2 = await whiteoutLayer(work);
  const l1 = await writeBlob(layout, gzipSync(tar1));
  const l2 = await writeBlob(layout, tar2);
  const diffIds = [sha256(tar1), sha256(tar2)];
  const config = await writeBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        architecture: hostPlatform().architecture,
        os: "linux",
        config: {
          Env: ["PATH=/bin:/usr/bin", "GREETING=hello"],
          Cmd: ["/bin/sh", "-c", "echo $GREETING"],
          WorkingDir: "/root",
        },
        rootfs: { type: "layers", diff_ids: diffIds },
      }),
    ),
  );
  const manifest = await writeBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers: [
          { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...l1 },
          { mediaType: "application/vnd.oci.image.layer.v1.tar", ...l2 },
        ],
      }),
    ),
  );
  const manifestEntry = { mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest };
  // "multi": an image index naming the same manifest for this host's platform (and one other).
  const multi = await writeBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          { ...manifestEntry, platform: { os: "linux", architecture: "s390x" } },
          { ...manifestEntry, platform: { os: "linux", architecture: hostPlatform().architecture } },
        ],
      }),
    ),
  );
  await writeFile(path.join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    path.join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { ...manifestEntry, annotations: { "org.opencontainers.image.ref.name": "1" } },
        {
          mediaType: "application/vnd.oci.image.index.v1+json",
          ...multi,
          annotations: { "org.opencontainers.image.ref.name": "multi" },
        },
      ],
    }),
  );
  return { layout, layerDigests: [l1.digest, l2.digest], diffIds, rootfs, work };
}

export interface PushOptions {
  /** The layout's tag: "1" (a manifest) or "multi" (an image index). */
  tag?: "1" | "multi";
  /** "v2s2" converts to Docker's schema-2 media types on the way. */
  format?: "oci" | "v2s2";
}

/** skopeo copies a tag of the layout to `docker://<host>/<repo>` over plain http. */
export async function pushLayout(
  image: TestImage,
  host: string,
  repo: string,
  options: PushOptions = {},
): Promise<void> {
  await requirePeer("skopeo", ["--version"], "apt-get install -y skopeo");
  const tag = options.tag ?? "1";
  await runProgram(
    "skopeo",
    [
      ...["copy", "--quiet", "--dest-tls-verify=false"],
      ...(tag === "multi" ? ["--all"] : []),
      ...(options.format ? ["--format", options.format] : []),
      `oci:${image.layout}:${tag}`,
      `docker://${host}/${repo}`,
    ],
    { timeoutMs: 60_000 },
  );
}
