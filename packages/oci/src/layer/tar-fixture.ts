import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Header, Pax } from "tar";

/**
 * Test support: builds tar streams entry by entry with node-tar's Header (an
 * independent implementation, so the reader is not tested against itself),
 * including hostile ones no well-behaved archiver would write. Not exported.
 */
export type FixtureType =
  | "File"
  | "Directory"
  | "SymbolicLink"
  | "Link"
  | "CharacterDevice"
  | "BlockDevice"
  | "FIFO";

export interface FixtureEntry {
  path: string;
  type?: FixtureType;
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmaj?: number;
  devmin?: number;
  /** Written as a PAX header with SCHILY.xattr.<name> records. */
  xattrs?: Record<string, string>;
}

const MTIME = new Date("2024-01-02T03:04:05Z");

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

function entryBlocks(entry: FixtureEntry): Buffer[] {
  const type = entry.type ?? (entry.body !== undefined ? "File" : "Directory");
  const body = Buffer.from(entry.body ?? "");
  const data = {
    path: entry.path,
    type,
    size: type === "File" ? body.length : 0,
    mode: entry.mode ?? (type === "Directory" ? 0o755 : 0o644),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: entry.mtime ?? MTIME,
    ...(entry.linkpath !== undefined && { linkpath: entry.linkpath }),
    ...(entry.devmaj !== undefined && { devmaj: entry.devmaj, devmin: entry.devmin ?? 0 }),
  };
  const header = new Header(data);
  const blocks: Buffer[] = [];
  if (entry.xattrs) blocks.push(...paxXattrs(entry.path, entry.xattrs));
  if (header.encode()) {
    blocks.push(new Pax({ path: entry.path, ...(entry.linkpath && { linkpath: entry.linkpath }) }).encode());
  }
  blocks.push(header.block!);
  if (type === "File") blocks.push(pad(body));
  return blocks;
}

/** PAX records are "<length> <key>=<value>\n", the length counting itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length += 1;
  return `${length}${rest}`;
}

function paxXattrs(path: string, xattrs: Record<string, string>): Buffer[] {
  const body = Buffer.from(
    Object.entries(xattrs)
      .map(([k, v]) => paxRecord(`SCHILY.xattr.${k}`, v))
      .join(""),
  );
  const header = new Header({
    path: `PaxHeader/${path}`.slice(0, 99),
    type: "ExtendedHeader",
    size: body.length,
  });
  header.encode();
  return [header.block!, pad(body)];
}

/** A complete tar (entries + the two zero blocks of its end). */
export function buildTar(entries: readonly FixtureEntry[]): Buffer {
  return Buffer.concat([...entries.flatMap(entryBlocks), Buffer.alloc(1024)]);
}

/** A stream of `data` in small chunks, so readers meet chunk boundaries. */
export function streamOf(data: Buffer, chunkSize = 700): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

/**
 * A temp parent holding `root` (the unpack target) and a `canary` file beside
 * it; `outsideEntries()` lists the parent, which must stay [canary, root].
 */
export async function makeSandbox() {
  const parent = await mkdtemp(join(tmpdir(), "berth-oci-"));
  const root = join(parent, "root");
  const canary = join(parent, "canary");
  await writeFile(canary, "canary");
  return {
    parent,
    root,
    canary,
    outsideEntries: async () => (await readdir(parent)).sort(),
    canaryIntact: async () => (await readFile(canary, "utf8")) === "canary",
    cleanup: async () => {
      await makeWritable(parent);
      await rm(parent, { recursive: true, force: true });
    },
  };
}

/** Makes every directory under `dir` writable (without following symlinks) so a non-root cleanup can remove it. */
async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeWritable(join(dir, entry.name));
  }
}

/** Every path under `dir`, relative, sorted ("a", "a/b", …); symlinks are listed, never followed. */
export async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await listTree(join(dir, entry.name), `${rel}/`)));
  }
  return out.sort();
}
