/**
 * `berth-agent build` of one big COPY against `podman build` of the same Dockerfile and context
 * (`FROM scratch`, `COPY . /data/`), both with --no-cache, interleaved. The context is made once:
 * a third random data in files of 8 MiB (it does not compress), the rest text in files of about
 * SMALL bytes, 100 to a directory (it compresses ~3x, as source trees and documentation do), with
 * some symlinks, a dangling one among them. Prints seconds and MB/s (of the context) and the ratio
 * of the medians. A last row, `tar -c | gzip -6` of the context, is the floor of what a commit
 * does here (Berth keeps each built layer as a gzip blob, as a push sends it; podman keeps layers
 * uncompressed and compresses when it pushes).
 *
 *   npx tsx test/bench/build.ts [--runs 3] [--mb 300] [--small-kb 16] [--agent FILE] [--compare FILE]
 *   npx tsx test/bench/build.ts --tree /usr/share/doc   # a real directory as the context instead
 *
 * --compare FILE builds with another bundle too in every run (before/after figures under the same
 * load). Each step starts after `sync` and, as root, with the page cache dropped and the context
 * read back in. Every run's output stays until the end (see pull-unpack.ts on deletions). Needs
 * root (COPY sets owners), podman, and the agent's bundle (npx turbo run build --filter=@berth/agent).
 * Exits 0 whatever the figures.
 */
import { spawnSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { median, need, seriesTable, settleCaches, timed } from "./support.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    mb: { type: "string", default: "300" },
    "small-kb": { type: "string", default: "16" },
    agent: { type: "string", default: path.join(ROOT, "agents/agent/dist/berth-agent.js") },
    compare: { type: "string" },
    tree: { type: "string" },
  },
});
const RUNS = Number(values.runs);
const AGENT = path.resolve(values.agent);
const COMPARE = values.compare ? path.resolve(values.compare) : null;
const isRoot = process.getuid?.() === 0;

const WORDS = "the layer image build copy registry host agent stack deploy rollback tar gzip digest".split(
  " ",
);

/** Text that compresses about as well as prose or source does. */
function text(bytes: number): Buffer {
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    const word = WORDS[randomInt(WORDS.length)]!;
    const next = randomInt(12) === 0 ? `${word}${randomInt(1_000_000)}\n` : `${word} `;
    parts.push(next);
    length += next.length;
  }
  return Buffer.from(parts.join("")).subarray(0, bytes);
}

/** The generated context: returns its bytes and file count. */
async function makeContext(dir: string): Promise<{ bytes: number; files: number }> {
  const total = Number(values.mb) * 1024 * 1024;
  const small = Number(values["small-kb"]) * 1024;
  let bytes = 0;
  let files = 0;
  await mkdir(path.join(dir, "big"), { recursive: true });
  for (; bytes < total / 3; files++) {
    const size = Math.min(8 << 20, Math.ceil(total / 3 - bytes));
    await writeFile(path.join(dir, "big", `blob${files}`), randomBytes(size));
    bytes += size;
  }
  for (let i = 0; bytes < total; i++, files++) {
    const sub = path.join(dir, "src", `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) {
      await mkdir(sub, { recursive: true });
      await symlink(`../d0/f0`, path.join(sub, "link"));
    }
    const size = Math.max(1, Math.floor(small * (0.5 + Math.random())));
    await writeFile(path.join(sub, `f${i}`), text(size));
    bytes += size;
  }
  await symlink("../nowhere", path.join(dir, "src", "dangling"));
  return { bytes, files };
}

/** Sync, and as root drop the page cache and read the context back in (see pull-unpack.ts). */
function settle(context: string): void {
  const files = [process.execPath, AGENT, ...(COMPARE ? [COMPARE] : [])];
  settleCaches(isRoot, { dirs: [context], programs: ["podman"], files });
}

async function main() {
  if (!isRoot) throw new Error("the build bench needs root (COPY sets owners; podman's storage)");
  need("podman", "podman");
  await stat(AGENT).catch(() => {
    throw new Error(`${AGENT} is missing: npx turbo run build --filter=@berth/agent`);
  });
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-build-"));
  try {
    const context = path.join(work, "context");
    process.stdout.write(
      values.tree ? `copying ${values.tree} as the context …\n` : `making a ${values.mb} MB context …\n`,
    );
    if (values.tree) await cp(values.tree, context, { recursive: true, verbatimSymlinks: true });
    const made = values.tree ? null : await makeContext(context);
    await writeFile(path.join(context, "Dockerfile"), "FROM scratch\nCOPY . /data/\n");
    const bytes = Number(
      spawnSync("du", ["-sb", context], { encoding: "utf8" }).stdout.split("\t")[0] ?? made?.bytes ?? 0,
    );
    const podman = ["--root", path.join(work, "podman"), "--runroot", path.join(work, "podman-run")]; // its own storage
    const times = {
      berth: [] as number[],
      compare: [] as number[],
      podman: [] as number[],
      floor: [] as number[],
    };
    for (let run = 0; run < RUNS; run++) {
      process.stdout.write(`  run ${run + 1}/${RUNS}\n`);
      const agents = [[AGENT, times.berth], ...(COMPARE ? [[COMPARE, times.compare] as const] : [])] as const;
      for (const [agent, series] of run % 2 === 0 ? agents : [...agents].reverse()) {
        const state = path.join(work, `state${run}-${series === times.berth ? "agent" : "compare"}`);
        settle(context);
        series.push(
          await timed(process.execPath, [
            agent,
            "--state-dir",
            state,
            "build",
            "--no-cache",
            "-t",
            "bench:1",
            context,
          ]),
        );
      }
      settle(context);
      times.podman.push(
        await timed("podman", [
          ...podman,
          "build",
          "--runtime",
          "runc",
          "--no-cache",
          "-q",
          "-t",
          `bench:${run}`,
          context,
        ]),
      );
      settle(context);
      const out = path.join(work, `floor${run}.tar.gz`);
      times.floor.push(await timed("sh", ["-c", 'tar -cf - -C "$1" . | gzip -6 > "$2"', "sh", context, out]));
    }
    const mb = bytes / 1024 / 1024;
    process.stdout.write(
      `\ncontext: ${mb.toFixed(0)} MB${made ? `, ${made.files} files` : ""}; ${RUNS} runs, interleaved\n\n`,
    );
    const row = seriesTable(mb);
    row("berth-agent build", times.berth);
    if (COMPARE) row(`  ${path.basename(COMPARE)}`.slice(0, 22), times.compare);
    row("podman build", times.podman);
    row("tar | gzip -6 (floor)", times.floor);
    process.stdout.write(
      `\nberth-agent build / podman build throughput: ${(median(times.podman) / median(times.berth)).toFixed(2)}x\n`,
    );
  } finally {
    // podman's images go with its storage (its own root under `work`).
    const storage = ["--root", path.join(work, "podman"), "--runroot", path.join(work, "podman-run")];
    spawnSync("podman", [...storage, "rmi", "--all", "--force"], { stdio: "ignore" });
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
