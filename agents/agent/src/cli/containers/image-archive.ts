import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { BerthError } from "@berth/protocol";
import type { Command } from "commander";
import { type LoadEvent, loadImages, saveImages } from "../../images/index.ts";
import { type CliIo, processIo } from "../io.ts";
import { openEngine } from "./context.ts";
import { bytes } from "./format.ts";
import { lineWriter, progressLine } from "./images.ts";

/** Writes to `file` through a temp file renamed at the end, so a failed save leaves no partial archive. */
async function toFile(file: string, write: (dest: NodeJS.WritableStream) => Promise<unknown>): Promise<void> {
  const temp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    await write(createWriteStream(temp, { flags: "wx", mode: 0o644 }));
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Load output, as a pull's: a line per layer ("Loading layer", "Loaded"), rewritten in place
 * with a progress bar on a terminal, where a first line also shows the archive being read.
 * Elsewhere a plain line for each status change, no byte counts.
 */
export function loadRenderer(out: (text: string) => void, tty: boolean): (event: LoadEvent) => void {
  const write = lineWriter(out, tty);
  return (event) => {
    if (event.type === "reading") {
      if (!tty) return;
      const line =
        event.total === null
          ? `archive: Reading ${bytes(event.current)}`
          : progressLine("archive", "Reading", event.current, event.total);
      write("archive", line);
    } else if (event.type === "layer") write(event.id, progressLine(event.id, event.status));
    else if (tty) write(event.id, progressLine(event.id, "Loading layer", event.current, event.total));
  };
}

export function registerImageArchiveCommands(program: Command, io: CliIo): void {
  program
    .command("save")
    .summary("write images to an OCI image layout tarball (stdout by default)")
    .argument("<image...>", "names or digests")
    .option("-o, --output <file>", 'write to this file ("-": stdout)')
    .action(async (refs: string[], f: { output?: string }, cmd: Command) => {
      const { images } = openEngine(cmd);
      if (f.output !== undefined && f.output !== "-") {
        return toFile(f.output, (dest) => saveImages(images, refs, dest));
      }
      if (process.stdout.isTTY) {
        throw new BerthError(
          "InvalidArgument",
          "refusing to write an image archive to a terminal; use -o FILE or redirect stdout",
        );
      }
      await saveImages(images, refs, process.stdout, { end: false });
    });

  program
    .command("load")
    .summary("load images from an OCI image layout or docker save tarball (stdin by default; plain or gzip)")
    .option("-i, --input <file>", 'read from this file ("-": stdin)')
    .option("-q, --quiet", "print nothing")
    .action(async (f: { input?: string; quiet?: boolean }, cmd: Command) => {
      const { images } = openEngine(cmd);
      const fromStdin = f.input === undefined || f.input === "-";
      if (fromStdin && process.stdin.isTTY) {
        throw new BerthError(
          "InvalidArgument",
          "stdin is a terminal; give an archive with -i FILE or redirect stdin",
        );
      }
      const input = fromStdin ? process.stdin : createReadStream(f.input!, { highWaterMark: 256 * 1024 });
      const size = fromStdin ? undefined : (await stat(f.input!)).size;
      const tty = io === processIo && process.stdout.isTTY === true;
      const onProgress = f.quiet ? undefined : loadRenderer((t) => io.stdout(t), tty);
      const loaded = await loadImages(images, input, { onProgress, size });
      if (f.quiet) return;
      for (const image of loaded) {
        io.stdout(image.name ? `Loaded image: ${image.name}\n` : `Loaded image ID: ${image.digest}\n`);
      }
    });

  program
    .command("prune")
    .summary("remove unused images and the layers no image needs")
    .option("-a, --all", "remove every image no container uses, not only untagged ones")
    .option("--dry-run", "only show what would be removed")
    .action(async (f: { all?: boolean; dryRun?: boolean }, cmd: Command) => {
      const { images, runtime } = openEngine(cmd);
      const report = await images.prune({
        all: f.all ?? false,
        dryRun: f.dryRun ?? false,
        usedImages: async () => (await runtime.list({ all: true })).map((c) => c.imageDigest),
      });
      const verb = report.dryRun ? "would delete" : "deleted";
      const lines: string[] = [];
      if (report.images.length > 0)
        lines.push(report.dryRun ? "Images that would be deleted:" : "Deleted Images:");
      for (const image of report.images) {
        for (const name of image.names) lines.push(`${report.dryRun ? "would untag" : "untagged"}: ${name}`);
        lines.push(`${verb}: ${image.digest}`);
      }
      if (report.layers.length > 0)
        lines.push(report.dryRun ? "Layers that would be deleted:" : "Deleted Layers:");
      for (const layer of report.layers) lines.push(`${verb}: ${layer.diffId} (${bytes(layer.size)})`);
      if (lines.length > 0) lines.push("");
      lines.push(`Total ${report.dryRun ? "reclaimable" : "reclaimed"} space: ${bytes(report.reclaimed)}`);
      io.stdout(`${lines.join("\n")}\n`);
    });
}
