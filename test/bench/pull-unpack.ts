/**
 * The agent's pull + unpack against skopeo + umoci: one multi-layer image
 * (about 300 MB by default: one layer of a few big files, the others of many
 * small ones, gzip like most registry images) in Debian's docker-registry on
 * loopback; `berth-agent pull` into a fresh state directory vs `skopeo copy
 * docker://… oci:DIR` then `umoci unpack`, interleaved. Prints MB/s (of the
 * uncompressed layers) and the ratio. Issue 4's goal: the agent >= 100 MB/s.
 * A last row, GNU `tar -xzf` of the same layers from local files (no
 * network, no digests, no blob kept), shows what extraction alone costs here.
 *
 *   npx tsx test/bench/pull-unpack.ts [--runs 3] [--mb 300] [--layers 3] [--small-kb 16] [--agent FILE] [--keep-cache]
 *   npx tsx test/bench/pull-unpack.ts --trees /usr/include,/usr/share/doc,/usr/lib/python3
 *
 * --trees makes the image of real directories instead, one layer each (GNU tar, gzip -6 as
 * Docker compresses): text that compresses ~3x, thousands of directories and some links, as a
 * real image has, where the default image is random data in few directories.
 * --agent runs another bundle (a copy of an older build, to compare); --cpu-prof DIR profiles each
 * agent run (node --cpu-prof) into DIR; --drop-blobs pulls with keepLayerBlobs false (layers only
 * unpacked, compressed blobs not kept: what the agent did before its content store); --compare FILE
 * pulls with another bundle too in every run, the two taking turns at going first (before/after
 * figures under the same load). --load also times `berth-agent load` of the same image as an OCI
 * archive in a local file (no network), with every bundle. --push also times `berth-agent push` of
 * the pulled image, with every bundle, against `skopeo copy` of the same image from its OCI layout,
 * each into a docker-registry of its own started empty for it (so nothing is mounted or skipped).
 *
 * --quiet N (60): the first timed step starts N seconds after the bench started. Deleting a
 * few GB of files just before (the last bench's output, a test run's) made the next minute's
 * pulls up to 50% slower here, and every other step with them.
 *
 * Every run's output stays until the end. Removing it between runs made the next run measure
 * the file system, not the unpacker: on ext4 without a journal (these machines), the inode
 * allocator skips inodes freed in the last minute (six while dirty), one buffer lookup each,
 * so creating files soon after deleting thousands costs several times more (perf: 45% of the
 * agent's CPU in ext4's recently_deleted). The layers are made in memory for the same reason. Each timed step
 * starts after `sync` and, as root, with the page cache dropped (see settle; --keep-cache not).
 *
 * Needs skopeo, umoci, docker-registry (Debian) and the agent's bundle
 * (npx turbo run build --filter=@berth/agent). Root: umoci unpacks as root
 * (else --rootless), the agent keeps owners. Exits 0 whatever the figures.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { type RegistryPeer, startRegistryPeer } from "../../agents/agent/src/images/pull/interop-support.ts";
import { END_OF_ARCHIVE, entryHeader, paddingBlock } from "../../packages/oci/src/layer/tar-writer.ts";
import { median, need, seriesTable, settleCaches, timed } from "./support.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DEFAULT_AGENT = path.join(ROOT, "agents/agent/dist/berth-agent.js");
const GOAL_MBS = 100;
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    mb: { type: "string", default: "300" },
    layers: { type: "string", default: "3" },
    "small-kb": { type: "string", default: "16" },
    agent: { type: "string", default: DEFAULT_AGENT },
    "cpu-prof": { type: "string" },
    "drop-blobs": { type: "boolean", default: false },
    compare: { type: "string" },
    "keep-cache": { type: "boolean", default: false },
    trees: { type: "string" },
    load: { type: "boolean", default: false },
    push: { type: "boolean", default: false },
    quiet: { type: "string", default: "60" },
  },
});
const RUNS = Number(values.runs);
const MB = Number(values.mb);
const TREES = values.trees?.split(",").map((dir) => path.resolve(dir)) ?? null;
const LAYERS = TREES?.length ?? Number(values.layers);
const SMALL = Number(values["small-kb"]) * 1024;
const AGENT = path.resolve(values.agent);
const COMPARE = values.compare ? path.resolve(values.compare) : null;
const PROFILE = values["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir", path.resolve(values["cpu-prof"])] : [];
const isRoot = process.getuid?.() === 0;
/** Seconds from the bench's start to its first timed step (see waitQuiet). */
const QUIET_SECONDS = Number(values.quiet);

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/**
 * One layer's tar, made in memory (no file is created or deleted to make it, see the note on
 * deletions below): layer 0 holds files of 8 MiB, the others files of about SMALL bytes, 100 to
 * a directory. Returns the tar and its file count.
 */
function layerTar(index: number, bytes: number): { tar: Buffer; files: number } {
  const big = index === 0;
  const parts: Buffer[] = [];
  const entry = (path: string, type: "file" | "directory", size: number) =>
    entryHeader({
      path,
      type,
      size,
      mode: type === "file" ? 0o644 : 0o755,
      uid: 0,
      gid: 0,
      mtime: 1_700_000_000,
    });
  let files = 0;
  for (let left = bytes; left > 0; files++) {
    const size = Math.min(left, big ? 8 << 20 : Math.max(1, Math.floor(SMALL * (0.5 + Math.random()))));
    const dir = `d${Math.floor(files / 100)}/`;
    if (files % 100 === 0) parts.push(entry(dir, "directory", 0));
    parts.push(entry(`${dir}f${files}`, "file", size), randomBytes(size), paddingBlock(size));
    left -= size;
  }
  parts.push(END_OF_ARCHIVE);
  return { tar: Buffer.concat(parts), files };
}

/** A real directory as a layer: its tar by GNU tar (names relative to /, as in an image) and its file count. */
function treeTar(dir: string): { tar: Buffer; files: number } {
  const made = spawnSync("tar", ["-C", "/", "-cf", "-", path.relative("/", dir)], {
    maxBuffer: 4 * 1024 ** 3,
  });
  if (made.status !== 0) throw new Error(`tar of ${dir} failed: ${made.stderr}`);
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  return { tar: made.stdout, files };
}

/** An OCI layout with LAYERS gzip layers; returns the uncompressed bytes, the file count and the layer blobs. */
async function makeLayout(
  work: string,
): Promise<{ tarBytes: number; gzBytes: number; files: number; layerFiles: string[] }> {
  const layout = path.join(work, "layout");
  const blobs = path.join(layout, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const layers: { digest: string; size: number; diffId: string }[] = [];
  let tarBytes = 0;
  let files = 0;
  for (let i = 0; i < LAYERS; i++) {
    const layer = TREES ? treeTar(TREES[i]!) : layerTar(i, Math.floor((MB * 1024 * 1024) / LAYERS));
    const gz = gzipSync(layer.tar, { level: TREES ? 6 : 1 });
    const digest = sha256(gz);
    await writeFile(path.join(blobs, digest.slice(7)), gz);
    layers.push({ digest, size: gz.length, diffId: sha256(layer.tar) });
    tarBytes += layer.tar.length;
    files += layer.files;
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === "arm64" ? "arm64" : "amd64",
      os: "linux",
      config: { Cmd: ["/bin/sh"] },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  await writeFile(path.join(blobs, sha256(config).slice(7)), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha256(config),
        size: config.length,
      },
      layers: layers.map((l) => ({
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        digest: l.digest,
        size: l.size,
      })),
    }),
  );
  await writeFile(path.join(blobs, sha256(manifest).slice(7)), manifest);
  await writeFile(path.join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  const entry = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: sha256(manifest),
    size: manifest.length,
  };
  await writeFile(
    path.join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...entry, annotations: { "org.opencontainers.image.ref.name": "1" } }],
    }),
  );
  const gzBytes = layers.reduce((sum, l) => sum + l.size, 0);
  return { tarBytes, gzBytes, files, layerFiles: layers.map((l) => path.join(blobs, l.digest.slice(7))) };
}

/**
 * Every timed step starts from the same state: what earlier steps left dirty is written back (its
 * write-back would take CPU from this one) and, as root, the page cache is dropped (a machine whose
 * memory fills with cache is slower to write: pages must first be reclaimed), then the registry's
 * blobs, the programs and `warm` (the tar step's layer files) are read back in (so the disk is not
 * what is measured). --keep-cache skips the drop.
 */
const DROP_CACHES = isRoot && !values["keep-cache"];
function settle(registry: RegistryPeer, warm: string[] = []): void {
  // Node alone is ~100 MB.
  const files = [process.execPath, AGENT, ...(COMPARE ? [COMPARE] : []), ...warm];
  settleCaches(DROP_CACHES, { dirs: [registry.dataDir], programs: ["skopeo", "umoci"], files });
}

/** The blob files of an agent's store (what its push reads). */
function storedBlobs(state: string): string[] {
  const dir = path.join(state, "images", "blobs", "sha256");
  return readdirSync(dir).map((name) => path.join(dir, name));
}

/**
 * Times `push` into a docker-registry started empty for it (a push into one that has the blobs, or
 * that a client knows to hold them in another repository, would skip or mount them), after settle.
 */
async function intoEmptyRegistry(
  source: RegistryPeer,
  warm: string[],
  push: (target: string) => Promise<number>,
): Promise<number> {
  const target = await startRegistryPeer();
  try {
    settle(source, warm);
    return await push(target.host);
  } finally {
    await target.stop();
  }
}

/**
 * Waits until QUIET_SECONDS have passed since `started`. Files deleted just before a bench (the last
 * bench's output, a test run's temp directories) make every step slower here for about a minute:
 * the freed memory goes back to the host, which must fault it in again (see the README).
 */
async function waitQuiet(started: number): Promise<void> {
  const left = started + QUIET_SECONDS * 1000 - Date.now();
  if (left <= 0) return;
  process.stdout.write(
    `waiting ${Math.ceil(left / 1000)} s for the machine to settle (--quiet ${QUIET_SECONDS}) …\n`,
  );
  await new Promise((resolve) => setTimeout(resolve, left));
}

const loadavg = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");

async function main() {
  const started = Date.now();
  need("skopeo", "skopeo");
  need("umoci", "umoci");
  need("docker-registry", "docker-registry");
  await stat(AGENT).catch(() => {
    throw new Error(`${AGENT} is missing: npx turbo run build --filter=@berth/agent`);
  });
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-pull-"));
  let registry: RegistryPeer | undefined;
  try {
    process.stdout.write(
      TREES
        ? `making an image of ${TREES.join(", ")} …\n`
        : `making a ${MB} MB image of ${LAYERS} gzip layers …\n`,
    );
    const { tarBytes, gzBytes, files, layerFiles } = await makeLayout(work);
    registry = await startRegistryPeer();
    const ref = `${registry.host}/bench/img:1`;
    await timed("skopeo", [
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      `oci:${path.join(work, "layout")}:1`,
      `docker://${ref}`,
    ]);
    const archive = path.join(work, "image.tar");
    if (values.load) spawnSync("tar", ["-cf", archive, "-C", path.join(work, "layout"), "."]);
    await waitQuiet(started);
    const times = {
      berth: [] as number[],
      compare: [] as number[],
      berthLoad: [] as number[],
      compareLoad: [] as number[],
      berthPush: [] as number[],
      comparePush: [] as number[],
      skopeoPush: [] as number[],
      skopeo: [] as number[],
      umoci: [] as number[],
      tar: [] as number[],
    };
    process.stdout.write(
      `load average before: ${loadavg()}; before each step: sync${DROP_CACHES ? ", page cache dropped" : ""}\n`,
    );
    for (let run = 0; run < RUNS; run++) {
      process.stdout.write(`  run ${run + 1}/${RUNS}\n`);
      const agents = [[AGENT, times.berth], ...(COMPARE ? [[COMPARE, times.compare] as const] : [])] as const;
      // With --compare the two swap places every run: neither always follows the tar step.
      for (const [agent, series] of run % 2 === 0 ? agents : [...agents].reverse()) {
        const state = path.join(work, `state${run}-${series === times.berth ? "agent" : "compare"}`);
        if (values["drop-blobs"]) {
          await mkdir(path.join(state, "images"), { recursive: true });
          await writeFile(path.join(state, "images", "config.json"), '{"keepLayerBlobs":false}');
        }
        settle(registry);
        series.push(await timed(process.execPath, [...PROFILE, agent, "--state-dir", state, "pull", ref]));
        if (values.push) {
          const pushes = series === times.berth ? times.berthPush : times.comparePush;
          pushes.push(
            await intoEmptyRegistry(registry, storedBlobs(state), (target) =>
              timed(process.execPath, [agent, "--state-dir", state, "push", ref, `${target}/bench/img:1`]),
            ),
          );
        }
        if (values.load) {
          settle(registry, [archive]);
          const loads = series === times.berth ? times.berthLoad : times.compareLoad;
          loads.push(
            await timed(process.execPath, [
              agent,
              "--state-dir",
              `${state}-load`,
              "load",
              "-q",
              "-i",
              archive,
            ]),
          );
        }
      }
      if (values.push) {
        times.skopeoPush.push(
          await intoEmptyRegistry(registry, layerFiles, (target) =>
            timed("skopeo", [
              "copy",
              "--quiet",
              "--dest-tls-verify=false",
              `oci:${path.join(work, "layout")}:1`,
              `docker://${target}/bench/img:1`,
            ]),
          ),
        );
      }
      const oci = path.join(work, `oci${run}`);
      const bundle = path.join(work, `bundle${run}`);
      settle(registry);
      times.skopeo.push(
        await timed("skopeo", [
          "copy",
          "--quiet",
          "--src-tls-verify=false",
          `docker://${ref}`,
          `oci:${oci}:1`,
        ]),
      );
      settle(registry);
      times.umoci.push(
        await timed("umoci", ["unpack", ...(isRoot ? [] : ["--rootless"]), "--image", `${oci}:1`, bundle]),
      );
      // The floor: GNU tar and gzip extracting the same layers from local files (no network, no digests).
      const extracted = path.join(work, `tar${run}`);
      settle(registry, layerFiles);
      const script = layerFiles
        .map((_, i) => `mkdir -p "$1/${i}" && tar -xzf "$${i + 2}" -C "$1/${i}"`)
        .join(" && ");
      times.tar.push(await timed("sh", ["-c", script, "sh", extracted, ...layerFiles]));
    }
    const mb = tarBytes / 1024 / 1024;
    const berth = median(times.berth);
    const peerRuns = times.skopeo.map((t, i) => t + times.umoci[i]!);
    const peer = median(peerRuns);
    process.stdout.write(
      `\nimage: ${mb.toFixed(0)} MB uncompressed (${(gzBytes / 1024 / 1024).toFixed(0)} MB gzip) in ${LAYERS} layers, ${files} files; ${RUNS} runs, interleaved, loopback\n\n`,
    );
    const row = seriesTable(mb);
    row("berth-agent pull", times.berth);
    if (COMPARE) row(`  ${path.basename(COMPARE)}`.slice(0, 22), times.compare);
    if (values.load) {
      row("berth-agent load", times.berthLoad);
      if (COMPARE) row(`  ${path.basename(COMPARE)}`.slice(0, 22), times.compareLoad);
    }
    if (values.push) {
      row("berth-agent push", times.berthPush);
      if (COMPARE) row(`  ${path.basename(COMPARE)}`.slice(0, 22), times.comparePush);
      row("skopeo copy (push)", times.skopeoPush);
    }
    row("skopeo copy", times.skopeo);
    row("umoci unpack", times.umoci);
    row("skopeo + umoci", peerRuns);
    row("tar -xzf (local)", times.tar);
    const pushRatio = values.push
      ? `; push ${(median(times.skopeoPush) / median(times.berthPush)).toFixed(2)}x skopeo's`
      : "";
    process.stdout.write(
      `\nberth-agent / (skopeo + umoci) throughput: ${(peer / berth).toFixed(2)}x; agent ${(mb / berth).toFixed(0)} MB/s (goal >= ${GOAL_MBS} MB/s: ${
        mb / berth >= GOAL_MBS ? "PASS" : "FAIL"
      })${pushRatio}\nload average after: ${loadavg()}; nproc ${os.cpus().length}\n`,
    );
  } finally {
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
