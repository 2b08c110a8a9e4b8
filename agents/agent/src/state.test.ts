import { chmod, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isBerthError } from "@berth/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { credentialPath, ensureStateDir, loadCredential, saveCredential } from "./state.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "berth-agent-state-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const credential = { server: "https://berth.example.com", hostId: "h_1", secret: "s".repeat(32) };

describe("state directory", () => {
  it("is created with mode 0700, parents included", async () => {
    const dir = path.join(root, "a", "b");
    expect(await ensureStateDir(dir)).toEqual({ created: true, looseMode: null });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it("reports an existing directory open to others without changing it", async () => {
    await chmod(root, 0o755);
    expect(await ensureStateDir(root)).toEqual({ created: false, looseMode: 0o755 });
    expect((await stat(root)).mode & 0o777).toBe(0o755);
  });
});

describe("credential file", () => {
  it("loads as null when absent", async () => {
    expect(await loadCredential(root)).toBeNull();
  });

  it("round-trips, with mode 0600 and no temp file left behind", async () => {
    await saveCredential(root, credential);
    expect(await loadCredential(root)).toEqual(credential);
    expect((await stat(credentialPath(root))).mode & 0o777).toBe(0o600);
    expect(await readdir(root)).toEqual(["credential.json"]);
  });

  it("replaces an existing credential", async () => {
    await saveCredential(root, credential);
    await saveCredential(root, { ...credential, hostId: "h_2" });
    expect((await loadCredential(root))?.hostId).toBe("h_2");
  });

  it.each([
    ["not JSON", "{oops"],
    ["missing fields", JSON.stringify({ server: "https://x" })],
    ["extra fields", JSON.stringify({ ...credential, extra: 1 })],
  ])("is a clear FailedPrecondition error when corrupt (%s)", async (_, content) => {
    await writeFile(credentialPath(root), content);
    const err = await loadCredential(root).catch((e: unknown) => e);
    expect(isBerthError(err) && err.code).toBe("FailedPrecondition");
    expect((err as Error).message).toContain(credentialPath(root));
  });

  it("fails with a BerthError when the directory does not exist", async () => {
    const err = await saveCredential(path.join(root, "missing"), credential).catch((e: unknown) => e);
    expect(isBerthError(err) && err.code).toBe("Internal");
  });
});
