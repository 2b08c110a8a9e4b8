import { randomBytes } from "node:crypto";
import { mkdtemp, rm, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createDb, type Database, schema } from "@berth/db";
import { type BlobStore, createFsBlobStore, digestOf } from "@berth/oci";
import { and, desc, eq, inArray } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { waitFor } from "../../../../test/support/wait.ts";
import { collectRegistryGarbage, registryGcTask } from "./gc.ts";
import { createPgRegistryMetadata } from "./metadata.ts";

const HOUR = 3600_000;
let database: Database;
let dir: string;
let blobs: BlobStore;
const repository = `gc${randomBytes(4).toString("hex")}/app`;

/** A blob with unique bytes, its file's time set `ageMs` into the past. */
async function blob(ageMs: number): Promise<string> {
  const data = randomBytes(100);
  const digest = digestOf(data);
  await blobs.put(digest, data);
  const at = new Date(Date.now() - ageMs);
  const hex = digest.slice("sha256:".length);
  await utimes(path.join(dir, "blobs", "sha256", hex.slice(0, 2), hex), at, at);
  return digest;
}

/** A manifest in `repository` that references `layer` (its own bytes a blob too). */
async function referencing(layer: string): Promise<string> {
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, layers: [layer], n: randomBytes(4).toString("hex") }),
  );
  const digest = digestOf(manifest);
  await blobs.put(digest, manifest);
  await createPgRegistryMetadata(database.db).putManifest(
    repository,
    {
      digest,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: manifest.length,
      blobs: [layer],
      manifests: [],
    },
    "1",
  );
  return digest;
}

async function gcEvents() {
  return database.db
    .select()
    .from(schema.events)
    .where(and(eq(schema.events.kind, "registry.gc"), eq(schema.events.subjectType, "registry")))
    .orderBy(desc(schema.events.id))
    .limit(20);
}

beforeAll(async () => {
  database = createDb(inject("databaseUrl"));
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-gc-"));
  blobs = createFsBlobStore({ root: dir });
});

afterAll(async () => {
  const db = database.db;
  await db.delete(schema.registryTags).where(eq(schema.registryTags.repository, repository));
  await db.delete(schema.registryManifests).where(eq(schema.registryManifests.repository, repository));
  await db.delete(schema.registryBlobLinks).where(eq(schema.registryBlobLinks.repository, repository));
  await db.delete(schema.registryRepositories).where(eq(schema.registryRepositories.name, repository));
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

describe("registry garbage collection", () => {
  it("removes an unreferenced blob older than the grace, keeps a fresh one and a referenced one, and records it", async () => {
    const old = await blob(3 * HOUR);
    const fresh = await blob(10 * 60_000);
    const layer = await blob(3 * HOUR);
    const manifest = await referencing(layer);
    const report = await collectRegistryGarbage({ db: database.db, blobs, graceMs: HOUR });
    expect(report.removed).toEqual([old]);
    expect(await blobs.exists(old)).toBe(false);
    expect(await blobs.exists(fresh)).toBe(true);
    expect(await blobs.exists(layer)).toBe(true);
    expect(await blobs.exists(manifest)).toBe(true);
    const events = await gcEvents();
    const event = events.find((e) => (e.data.digests as string[]).includes(old));
    expect(event?.data).toMatchObject({ blobsDeleted: 1, bytesFreed: 100, digests: [old] });

    // Much later, the fresh one is old too; a referenced blob never goes.
    const later = await collectRegistryGarbage({
      db: database.db,
      blobs,
      graceMs: HOUR,
      now: new Date(Date.now() + 48 * HOUR),
    });
    expect(later.removed).toEqual([fresh]);
    expect(await blobs.exists(layer)).toBe(true);
    expect(await blobs.exists(manifest)).toBe(true);
  });

  it("runs on its interval as a leader task, and stops", async () => {
    const old = await blob(3 * HOUR);
    const task = registryGcTask({
      db: database.db,
      blobs,
      graceMs: HOUR,
      intervalMs: 200,
      log: pino({ level: "silent" }),
    });
    const handle = await task.start();
    try {
      await waitFor(
        "the scheduled collection to remove the old blob",
        async () => !(await blobs.exists(old)),
        5000,
      );
      const second = await blob(3 * HOUR);
      await waitFor("the next collection to remove another", async () => !(await blobs.exists(second)), 5000);
    } finally {
      await handle.stop();
    }
    const after = await blob(3 * HOUR);
    await new Promise((r) => setTimeout(r, 500));
    expect(await blobs.exists(after)).toBe(true);
    const rows = await database.db
      .select({ key: schema.settings.key })
      .from(schema.settings)
      .where(inArray(schema.settings.key, ["registry-gc-last-run"]));
    expect(rows).toHaveLength(1);
  });
});
