import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import { z } from "zod";

/**
 * The agent's state directory (mode 0700). For now it holds the host
 * credential the control plane issued when this host joined; images,
 * containers and volumes will live beside it.
 */
export const CREDENTIAL_FILE = "credential.json";

const credentialSchema = z.strictObject({
  /** The normalised control-plane URL this credential belongs to. */
  server: z.string().min(1),
  hostId: z.string().min(1).max(100),
  secret: z.string().min(16).max(200),
});
export type StoredCredential = z.infer<typeof credentialSchema>;

export function credentialPath(stateDir: string): string {
  return path.join(stateDir, CREDENTIAL_FILE);
}

export interface StateDirInfo {
  /** Whether this call created the directory. */
  created: boolean;
  /** Set when an existing directory is open to group or others (we never chmod a directory we did not make). */
  looseMode: number | null;
}

/** Create the state directory (and its parents) with mode 0700 if it does not exist. */
export async function ensureStateDir(stateDir: string): Promise<StateDirInfo> {
  try {
    const created = (await mkdir(stateDir, { recursive: true, mode: 0o700 })) !== undefined;
    if (created) await chmod(stateDir, 0o700); // in case the umask took bits away from the owner
    const mode = (await stat(stateDir)).mode & 0o777;
    return { created, looseMode: mode & 0o077 ? mode : null };
  } catch (err) {
    throw new BerthError(
      "FailedPrecondition",
      `cannot create the state directory ${stateDir}: ${(err as Error).message} (run as root or pass --state-dir)`,
      { cause: err },
    );
  }
}

/** The stored credential, or null when this host has not joined yet. A corrupt file is an error. */
export async function loadCredential(stateDir: string): Promise<StoredCredential | null> {
  const file = credentialPath(stateDir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new BerthError("FailedPrecondition", `cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw corrupt(file, "it is not valid JSON", err);
  }
  const parsed = credentialSchema.safeParse(value);
  if (!parsed.success) {
    throw corrupt(file, `it does not hold {server, hostId, secret} (${parsed.error.issues[0]?.message})`);
  }
  return parsed.data;
}

function corrupt(file: string, why: string, cause?: unknown): BerthError {
  return new BerthError(
    "FailedPrecondition",
    `the host credential file ${file} is corrupt: ${why}; remove it and join again with a new join token`,
    { cause },
  );
}

/** Store the credential atomically: temp file (0600) → fsync → rename → fsync the directory. */
export async function saveCredential(stateDir: string, credential: StoredCredential): Promise<void> {
  const data = `${JSON.stringify(credentialSchema.parse(credential), null, 2)}\n`;
  await writeFileAtomic(credentialPath(stateDir), data);
}

export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(data, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw new BerthError("Internal", `cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
  await syncDir(path.dirname(file));
}

/** Make the rename durable. Some filesystems refuse fsync on a directory; that is not worth failing for. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle.close();
  }
}
