import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { createGunzip } from "node:zlib";
import { BerthError } from "@berth/protocol";
import { runProgram } from "../exec.ts";
import { TarScanner } from "./tar-scan.ts";

const TAR = "tar";
const LONG_MS = 10 * 60 * 1000;
const LIST_BUFFER_BYTES = 256 * 1024 * 1024;

/** A checked, uncompressed layer tar in the store's temp directory. */
export interface IngestedLayer {
  /** sha256 of the uncompressed tar stream. */
  hex: string;
  tarFile: string;
  /** Bytes of regular files. */
  size: number;
  entries: number;
}

type Compression = "none" | "gzip";

async function detectCompression(file: string): Promise<Compression> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await handle.read(head, 0, 6, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
    const magic = head.subarray(0, bytesRead).toString("latin1");
    if (magic.startsWith("\xfd7zXZ") || magic.startsWith("BZh") || magic.startsWith("\x28\xb5\x2f\xfd")) {
      throw new BerthError("InvalidArgument", `${file}: only .tar and .tar.gz archives can be imported`);
    }
    return "none";
  } finally {
    await handle.close();
  }
}

/** Stream a tar, checking every header, hashing it and (optionally) copying it to `copyTo`. */
async function scanTarStream(source: AsyncIterable<Buffer>, copyTo: string | null) {
  const hash = createHash("sha256");
  const scanner = new TarScanner();
  const sink = copyTo === null ? null : await open(copyTo, "wx", 0o600);
  try {
    for await (const chunk of source) {
      hash.update(chunk);
      scanner.push(chunk);
      if (sink) await sink.write(chunk);
    }
    scanner.finish();
    if (sink) await sink.sync();
  } finally {
    await sink?.close();
  }
  return { hex: hash.digest("hex"), size: scanner.size, entries: scanner.entries };
}

/**
 * Our reader and GNU tar (which unpacks) must see the same members, or a
 * crafted archive could hide an entry from the checks.
 */
async function crossCheck(tarFile: string, entries: number): Promise<void> {
  const listing = await runProgram(TAR, ["--list", "--quoting-style=escape", "-f", tarFile], {
    timeoutMs: LONG_MS,
    maxBufferBytes: LIST_BUFFER_BYTES,
  });
  const listed = listing.split("\n").filter((line) => line !== "").length;
  if (listed !== entries) {
    throw new BerthError(
      "InvalidArgument",
      `tar archive is ambiguous: ${listed} members for tar, ${entries} for Berth`,
    );
  }
}

/** Check and copy a .tar or .tar.gz into `tempDir` as an uncompressed tar. */
export async function ingestTarball(file: string, tempDir: string): Promise<IngestedLayer> {
  const info = await stat(file).catch((err) => {
    throw new BerthError("NotFound", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  });
  if (!info.isFile()) throw new BerthError("InvalidArgument", `${file} is not a file`);
  const compression = await detectCompression(file);
  const tarFile = path.join(tempDir, `${randomBytes(8).toString("hex")}.tar`);
  try {
    const raw = createReadStream(file);
    const source = compression === "gzip" ? raw.pipe(createGunzip()) : raw;
    const scanned = await scanTarStream(source, tarFile).catch((err) => {
      raw.destroy();
      if (err instanceof BerthError) throw err;
      throw new BerthError("InvalidArgument", `${file} is not a readable tar archive: ${err.message}`, {
        cause: err,
      });
    });
    await crossCheck(tarFile, scanned.entries);
    return { ...scanned, tarFile };
  } catch (err) {
    await rm(tarFile, { force: true });
    throw err;
  }
}

/**
 * Tar a directory deterministically (sorted names, mtime 0, owner root,
 * numeric ids) into `tempDir` and check it like any tarball. The contents of
 * /dev are left out: a container's /dev is always a fresh tmpfs.
 */
export async function ingestDirectory(dir: string, tempDir: string): Promise<IngestedLayer> {
  const info = await stat(dir).catch((err) => {
    throw new BerthError("NotFound", `cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  });
  if (!info.isDirectory()) throw new BerthError("InvalidArgument", `${dir} is not a directory`);
  const tarFile = path.join(tempDir, `${randomBytes(8).toString("hex")}.tar`);
  try {
    await runProgram(
      TAR,
      [
        ...["--create", "--file", tarFile, "--directory", dir, "--format=gnu", "--sort=name", "--mtime=@0"],
        ...["--owner=0", "--group=0", "--numeric-owner", "--anchored", "--exclude=./dev/?*", "."],
      ],
      { timeoutMs: LONG_MS },
    );
    const scanned = await scanTarStream(createReadStream(tarFile), null);
    return { ...scanned, tarFile };
  } catch (err) {
    await rm(tarFile, { force: true });
    throw err;
  }
}

/** As root, files keep the archive's owners; anyone else cannot chown and owns them all. */
function ownership(): string {
  return process.getuid?.() === 0 ? "--same-owner" : "--no-same-owner";
}

/**
 * Unpack a checked layer tar into `layerDir` once: into a temp directory,
 * then renamed into place. When another writer got there first, theirs stays.
 */
export async function unpackLayer(layer: IngestedLayer, layerDir: string, tempDir: string): Promise<void> {
  if (
    await stat(layerDir).then(
      () => true,
      () => false,
    )
  )
    return;
  const staging = path.join(tempDir, `layer-${randomBytes(8).toString("hex")}`);
  await mkdir(staging, { mode: 0o755 });
  try {
    await runProgram(
      TAR,
      [
        ...["--extract", "--file", layer.tarFile, "--directory", staging, "--numeric-owner", ownership()],
        ...["--same-permissions", "--delay-directory-restore", "--warning=no-timestamp"],
      ],
      { timeoutMs: LONG_MS },
    );
    await mkdir(path.dirname(layerDir), { recursive: true });
    await rename(staging, layerDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
