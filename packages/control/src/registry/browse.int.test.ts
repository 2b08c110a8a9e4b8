import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createDb, type Database, schema } from "@berth/db";
import { type BlobStore, createFsBlobStore, digestOf } from "@berth/oci";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { getManifestDetails, getRepository, listRepositories } from "./browse.ts";
import { createPgRegistryMetadata } from "./metadata.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

let database: Database;
let blobs: BlobStore;
let dir: string;
const suffix = randomBytes(4).toString("hex");
const created: string[] = [];

beforeAll(async () => {
  database = createDb(inject("databaseUrl"));
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-browse-"));
  blobs = createFsBlobStore({ root: dir });
});

afterAll(async () => {
  for (const name of created) {
    await database.db.delete(schema.registryTags).where(eq(schema.registryTags.repository, name));
    await database.db.delete(schema.registryManifests).where(eq(schema.registryManifests.repository, name));
    await database.db.delete(schema.registryBlobLinks).where(eq(schema.registryBlobLinks.repository, name));
    await database.db.delete(schema.registryRepositories).where(eq(schema.registryRepositories.name, name));
  }
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

function repoName(base: string): string {
  const name = `browse-${suffix}/${base}`;
  created.push(name);
  return name;
}

async function putBlob(data: Buffer | string): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(data);
  const digest = digestOf(bytes);
  await blobs.put(digest, bytes);
  return { digest, size: bytes.length };
}

/** Stores an image (config, two layers, manifest) the way a push does; returns its descriptors. */
async function pushImage(repository: string, tag: string | undefined, pushedBy: string, arch = "arm64") {
  const layers = [await putBlob(`layer one ${arch}`), await putBlob(`layer two, longer ${arch}`)];
  const config = await putBlob(
    JSON.stringify({
      created: "2026-11-01T10:00:00Z",
      architecture: arch,
      os: "linux",
      variant: arch === "arm64" ? "v8" : undefined,
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      history: [
        { created_by: "COPY one /" },
        { created_by: "ENV A=1", empty_layer: true },
        { created_by: "COPY two /" },
      ],
    }),
  );
  const manifest = await putBlob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, ...l })),
    }),
  );
  const metadata = createPgRegistryMetadata(database.db, { pushedBy: () => pushedBy });
  await metadata.putManifest(
    repository,
    {
      ...manifest,
      mediaType: OCI_MANIFEST,
      blobs: [config.digest, ...layers.map((l) => l.digest)],
      manifests: [],
    },
    tag,
  );
  return { manifest, config, layers };
}

async function setPushedAt(repository: string, digest: string, iso: string) {
  await database.db
    .update(schema.registryManifests)
    .set({ pushedAt: sql`${iso}::timestamptz` })
    .where(
      sql`${schema.registryManifests.repository} = ${repository} and ${schema.registryManifests.digest} = ${digest}`,
    );
}

describe("listRepositories", () => {
  it("counts tags and names the latest push of each repository", async () => {
    const app = repoName("app");
    const empty = repoName("untagged");
    const first = await pushImage(app, "1", "alice");
    const second = await pushImage(app, "2", "bob", "amd64");
    await setPushedAt(app, first.manifest.digest, "2026-11-01T00:00:00Z");
    await setPushedAt(app, second.manifest.digest, "2026-11-02T00:00:00Z");
    await pushImage(empty, undefined, "carol");

    const mine = (await listRepositories(database.db)).filter((r) => r.name.startsWith(`browse-${suffix}/`));
    // No team has the slug browse-…: the repositories are shared.
    expect(mine).toEqual([
      {
        name: app,
        team: null,
        tagCount: 2,
        lastPushedAt: new Date("2026-11-02T00:00:00Z"),
        lastPushedBy: "bob",
      },
      { name: empty, team: null, tagCount: 0, lastPushedAt: expect.any(Date), lastPushedBy: "carol" },
    ]);
  });

  it("names the team whose slug is a repository's first part, and only when the whole part matches", async () => {
    const slug = `browse-team-${suffix}`;
    const teamId = `team_browse_${suffix}`;
    await database.db.insert(schema.teams).values({ id: teamId, name: `Browse ${suffix}`, slug });
    try {
      const owned = `${slug}/web`;
      const lookalike = `${slug}x/web`;
      created.push(owned, lookalike);
      await pushImage(owned, "1", "alice");
      await pushImage(lookalike, "1", "alice");
      const listed = await listRepositories(database.db);
      expect(listed.find((r) => r.name === owned)?.team).toEqual({ slug, name: `Browse ${suffix}` });
      expect(listed.find((r) => r.name === lookalike)?.team).toBeNull();
    } finally {
      await database.db.delete(schema.teams).where(eq(schema.teams.id, teamId));
    }
  });
});

describe("getRepository", () => {
  it("lists the tags with digest, size and pusher, newest first", async () => {
    const name = repoName("tags");
    const a = await pushImage(name, "old", "alice");
    const b = await pushImage(name, "new", "bob", "amd64");
    await setPushedAt(name, a.manifest.digest, "2026-10-01T00:00:00Z");
    await setPushedAt(name, b.manifest.digest, "2026-10-02T00:00:00Z");
    const repo = await getRepository(database.db, name, blobs);
    expect(repo.name).toBe(name);
    expect(repo.tags).toEqual([
      {
        tag: "new",
        digest: b.manifest.digest,
        mediaType: OCI_MANIFEST,
        size: b.manifest.size,
        pushedBy: "bob",
        pushedAt: new Date("2026-10-02T00:00:00Z"),
        imageSize: b.config.size + b.layers[0]!.size + b.layers[1]!.size,
      },
      expect.objectContaining({ tag: "old", digest: a.manifest.digest, pushedBy: "alice" }),
    ]);
  });

  it("leaves image sizes out without the blob store", async () => {
    const name = repoName("nosizes");
    await pushImage(name, "1", "alice");
    const repo = await getRepository(database.db, name);
    expect(repo.tags.map((t) => t.imageSize)).toEqual([null]);
  });

  it("is NotFound for a repository nobody pushed to", async () => {
    await expect(getRepository(database.db, `browse-${suffix}/nothing`)).rejects.toMatchObject({
      code: "NotFound",
    });
  });
});

describe("getManifestDetails", () => {
  it("reads the layers, config, platform and history of an image manifest", async () => {
    const name = repoName("image");
    const img = await pushImage(name, "1", "alice");
    const d = await getManifestDetails(database.db, blobs, name, img.manifest.digest);
    expect(d).toMatchObject({
      kind: "manifest",
      repository: name,
      digest: img.manifest.digest,
      mediaType: OCI_MANIFEST,
      size: img.manifest.size,
      pushedBy: "alice",
      tags: ["1"],
      config: { digest: img.config.digest, mediaType: OCI_CONFIG, size: img.config.size },
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
      created: "2026-11-01T10:00:00Z",
      totalSize: img.config.size + img.layers[0]!.size + img.layers[1]!.size,
    });
    if (d.kind !== "manifest") throw new Error("expected an image manifest");
    expect(d.layers).toEqual([
      { ...img.layers[0], mediaType: OCI_LAYER, createdBy: "COPY one /" },
      { ...img.layers[1], mediaType: OCI_LAYER, createdBy: "COPY two /" },
    ]);
  });

  it("lists an index's child manifests with their platforms", async () => {
    const name = repoName("multi");
    const arm = await pushImage(name, undefined, "alice", "arm64");
    const amd = await pushImage(name, undefined, "alice", "amd64");
    const index = await putBlob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, ...arm.manifest, platform: { os: "linux", architecture: "arm64" } },
          { mediaType: OCI_MANIFEST, ...amd.manifest, platform: { os: "linux", architecture: "amd64" } },
        ],
      }),
    );
    await createPgRegistryMetadata(database.db, { pushedBy: () => "alice" }).putManifest(
      name,
      { ...index, mediaType: OCI_INDEX, blobs: [], manifests: [arm.manifest.digest, amd.manifest.digest] },
      "latest",
    );
    const d = await getManifestDetails(database.db, blobs, name, index.digest);
    expect(d).toMatchObject({
      kind: "index",
      tags: ["latest"],
      totalSize: arm.manifest.size + amd.manifest.size,
    });
    if (d.kind !== "index") throw new Error("expected an index");
    expect(d.manifests).toEqual([
      {
        digest: arm.manifest.digest,
        mediaType: OCI_MANIFEST,
        size: arm.manifest.size,
        platform: { os: "linux", architecture: "arm64", variant: null },
      },
      expect.objectContaining({
        digest: amd.manifest.digest,
        platform: { os: "linux", architecture: "amd64", variant: null },
      }),
    ]);
  });

  it("is NotFound for a digest the repository does not hold, even if another repository does", async () => {
    const a = repoName("holder");
    const img = await pushImage(a, "1", "alice");
    await expect(
      getManifestDetails(database.db, blobs, repoName("other"), img.manifest.digest),
    ).rejects.toMatchObject({ code: "NotFound" });
    await expect(
      getManifestDetails(database.db, blobs, a, digestOf("no such manifest")),
    ).rejects.toMatchObject({ code: "NotFound" });
  });

  it("is FailedPrecondition when the manifest's bytes are gone from storage", async () => {
    const name = repoName("lost");
    const img = await pushImage(name, "1", "alice");
    await blobs.delete(img.manifest.digest);
    await expect(getManifestDetails(database.db, blobs, name, img.manifest.digest)).rejects.toMatchObject({
      code: "FailedPrecondition",
    });
  });

  it("still shows the layers when the config is not an image config", async () => {
    const name = repoName("artifact");
    const layer = await putBlob("artifact payload");
    const config = await putBlob("{}");
    const manifest = await putBlob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: "application/vnd.example.config+json", ...config },
        layers: [{ mediaType: "application/octet-stream", ...layer }],
      }),
    );
    await createPgRegistryMetadata(database.db).putManifest(
      name,
      { ...manifest, mediaType: OCI_MANIFEST, blobs: [config.digest, layer.digest], manifests: [] },
      "v1",
    );
    const d = await getManifestDetails(database.db, blobs, name, manifest.digest);
    expect(d).toMatchObject({ kind: "manifest", platform: null, created: null, pushedBy: null });
    if (d.kind !== "manifest") throw new Error("expected an image manifest");
    expect(d.layers).toEqual([{ ...layer, mediaType: "application/octet-stream", createdBy: null }]);
  });
});
