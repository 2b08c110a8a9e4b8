/**
 * Registry throughput: skopeo pushes and pulls one multi-layer image (about
 * 300 MB of incompressible data by default) over loopback, to and from
 * Berth's registry (the real control plane: /v2/ with Postgres metadata and
 * Berth's auth) and Debian's docker-registry (the reference implementation),
 * interleaved, in one run. Prints MB/s and Berth's ratio to docker-registry.
 * See test/bench/README.md.
 *
 *   npx tsx test/bench/registry.ts [--runs N] [--mb 300] [--layers 3]
 *
 * Needs skopeo and docker-registry (Debian). Exits 0 whatever the figures.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startRegistryPeer } from "../../agents/agent/src/images/pull/interop-support.ts";
import { freePort, median, need, timed } from "./support.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const GOAL = 0.8;
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    mb: { type: "string", default: "300" },
    layers: { type: "string", default: "3" },
  },
});
const RUNS = Number(values.runs);
const MB = Number(values.mb);
const LAYERS = Number(values.layers);

/** Time one skopeo run. Async: Berth's registry serves from this very process. */
const skopeo = (args: string[]) => timed("skopeo", args);

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** An OCI layout with LAYERS uncompressed tar layers of random bytes (each a single file). */
async function makeLayout(dir: string): Promise<number> {
  const blobs = path.join(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const layers: { digest: string; size: number }[] = [];
  const per = Math.floor((MB * 1024 * 1024) / LAYERS);
  for (let i = 0; i < LAYERS; i++) {
    const root = path.join(dir, `..`, `layer${i}`);
    await mkdir(root, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(path.join(root, `data${i}.bin`));
      for (let left = per; left > 0; left -= 1 << 20) out.write(randomBytes(Math.min(left, 1 << 20)));
      out.end(resolve);
      out.on("error", reject);
    });
    const tarFile = path.join(dir, "..", `layer${i}.tar`);
    spawnSync("tar", ["-C", root, "-cf", tarFile, "."]);
    const data = await readFile(tarFile);
    const digest = sha256(data);
    await writeFile(path.join(blobs, digest.slice(7)), data);
    layers.push({ digest, size: data.length });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
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
      layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...l })),
    }),
  );
  await writeFile(path.join(blobs, sha256(manifest).slice(7)), manifest);
  await writeFile(path.join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    path.join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: sha256(manifest),
          size: manifest.length,
          annotations: { "org.opencontainers.image.ref.name": "latest" },
        },
      ],
    }),
  );
  return layers.reduce((n, l) => n + l.size, 0) + config.length + manifest.length;
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await fetch(url).catch(() => null))?.ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${url} did not answer within ${timeoutMs / 1000} s (build first: npx turbo run build --filter=@berth/web)`,
  );
}

async function main() {
  need("skopeo", "skopeo");
  need("docker-registry", "docker-registry");
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-registry-"));
  await chmod(work, 0o711); // the embedded Postgres runs as its own user and must reach its data
  const stops: Array<() => Promise<unknown>> = [];
  try {
    let bytes = 0;
    process.stdout.write(
      "starting Berth's control plane (its own process, embedded Postgres) and docker-registry …\n",
    );
    const port = await freePort();
    const server = spawn(process.execPath, [path.join(ROOT, "apps/web/dist/server.js")], {
      stdio: "ignore",
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        BERTH_HOME: path.join(work, "berth"),
        BERTH_ADMIN_PASSWORD: "bench-password",
        BERTH_LOG_LEVEL: "warn",
      },
    });
    stops.push(async () => {
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
    });
    await waitFor(`http://127.0.0.1:${port}/healthz`, 120_000);
    const dr = await startRegistryPeer();
    stops.unshift(() => dr.stop());
    const targets = [
      {
        name: "berth",
        host: `127.0.0.1:${port}`,
        creds: ["--dest-creds", "admin:bench-password"],
        src: ["--src-creds", "admin:bench-password"],
      },
      { name: "docker-registry", host: dr.host, creds: [], src: [] },
    ];
    const results: Record<string, { push: number[]; pull: number[] }> = {};
    for (const t of targets) results[t.name] = { push: [], pull: [] };
    for (let run = 0; run < RUNS; run++) {
      // New random layers every run: nothing can be reused or mounted from an earlier push
      // (skopeo remembers where it has seen a blob), so every push moves every byte.
      const layout = path.join(work, `layout${run}`, "oci");
      process.stdout.write(`  run ${run + 1}/${RUNS}: making a ${MB} MB image of ${LAYERS} layers …\n`);
      bytes = await makeLayout(layout);
      for (const t of targets) {
        const ref = `docker://${t.host}/bench/r${run}:1`;
        results[t.name]!.push.push(
          await skopeo(["copy", "--dest-tls-verify=false", ...t.creds, `oci:${layout}:latest`, ref]),
        );
        const out = path.join(work, `pull-${t.name}-${run}`);
        results[t.name]!.pull.push(
          await skopeo(["copy", "--src-tls-verify=false", ...t.src, ref, `oci:${out}:latest`]),
        );
        await rm(out, { recursive: true, force: true });
      }
      await rm(path.dirname(layout), { recursive: true, force: true });
    }
    const mb = bytes / 1024 / 1024;
    process.stdout.write(
      `\nimage: ${mb.toFixed(0)} MB in ${LAYERS} layers; ${RUNS} runs each, interleaved; skopeo over loopback\n\n`,
    );
    process.stdout.write("registry            push MB/s (median)   pull MB/s (median)\n");
    for (const t of targets) {
      const r = results[t.name]!;
      process.stdout.write(
        `${t.name.padEnd(20)}${(mb / median(r.push)).toFixed(0).padStart(18)}${(mb / median(r.pull)).toFixed(0).padStart(21)}\n`,
      );
    }
    const b = results.berth!;
    const d = results["docker-registry"]!;
    const pushRatio = median(d.push) / median(b.push);
    const pullRatio = median(d.pull) / median(b.pull);
    process.stdout.write(
      `\nBerth / docker-registry throughput: push ${pushRatio.toFixed(2)}x, pull ${pullRatio.toFixed(2)}x (goal >= ${GOAL}x: ${
        pushRatio >= GOAL && pullRatio >= GOAL ? "PASS" : "FAIL"
      })\n`,
    );
    const spaceBerth = (await stat(path.join(work, "berth", "registry")).catch(() => null)) !== null;
    if (!spaceBerth) throw new Error("Berth's registry stored nothing");
  } finally {
    for (const stop of stops) await stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
