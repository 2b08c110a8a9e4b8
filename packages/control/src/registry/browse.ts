// What the dashboard shows of the built-in registry: repositories, their tags, and a manifest's layers.
import { type Db, schema } from "@berth/db";
import {
  type BlobStore,
  type Descriptor,
  type ImageConfig,
  isOciError,
  MAX_MANIFEST_BYTES,
  type Platform,
  parseImageConfig,
  parseManifest,
} from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { and, asc, count, desc, eq, sql } from "drizzle-orm";
import { qualified } from "../teams.ts";
import { pullableBy } from "./access.ts";
import { taggedManifests } from "./metadata.ts";

const repos = schema.registryRepositories;
const m = schema.registryManifests;
const t = schema.registryTags;

/** Config blobs larger than this are not read for the platform and creation time. */
export const MAX_BROWSED_CONFIG_BYTES = 1024 * 1024;

export interface RepositorySummary {
  name: string;
  /** The team whose slug is the name's first part, which holds the push and pull rights; null for a shared one. */
  team: { slug: string; name: string } | null;
  tagCount: number;
  lastPushedAt: Date | null;
  lastPushedBy: string | null;
}

/**
 * Every repository, by name, with its team, its tag count and its latest
 * push; with `viewer` (a user id), only those the user may pull.
 */
export async function listRepositories(db: Db, viewer?: string): Promise<RepositorySummary[]> {
  const names = await db
    .select({ name: repos.name, teamSlug: schema.teams.slug, teamName: schema.teams.name })
    .from(repos)
    .leftJoin(schema.teams, eq(schema.teams.slug, sql`split_part(${qualified(repos.name)}, '/', 1)`))
    .where(viewer === undefined ? undefined : pullableBy(viewer, repos.name))
    .orderBy(asc(repos.name));
  const counts = await db.select({ repository: t.repository, n: count() }).from(t).groupBy(t.repository);
  // The newest manifest of each repository.
  const latest = await db
    .selectDistinctOn([m.repository], {
      repository: m.repository,
      pushedAt: m.pushedAt,
      pushedBy: m.pushedBy,
    })
    .from(m)
    .orderBy(m.repository, desc(m.pushedAt));
  const tagCounts = new Map(counts.map((c) => [c.repository, Number(c.n)]));
  const pushes = new Map(latest.map((l) => [l.repository, l]));
  return names.map(({ name, teamSlug, teamName }) => ({
    name,
    team: teamSlug === null || teamName === null ? null : { slug: teamSlug, name: teamName },
    tagCount: tagCounts.get(name) ?? 0,
    lastPushedAt: pushes.get(name)?.pushedAt ?? null,
    lastPushedBy: pushes.get(name)?.pushedBy ?? null,
  }));
}

export interface TagSummary {
  tag: string;
  digest: string;
  mediaType: string;
  /** Bytes of the manifest itself. */
  size: number;
  pushedBy: string | null;
  pushedAt: Date;
  /** Config plus layers of an image manifest; null for an index or when the blob store was not given. */
  imageSize: number | null;
}

/**
 * A repository and its tags (newest push first); NotFound when nothing was
 * ever pushed to it, or when `viewer` (a user id) may not pull it. With
 * `blobs`, each tag's image size is read from its manifest.
 */
export async function getRepository(
  db: Db,
  name: string,
  blobs?: BlobStore,
  viewer?: string,
): Promise<{ name: string; tags: TagSummary[] }> {
  const [repo] = await db
    .select({ name: repos.name })
    .from(repos)
    .where(and(eq(repos.name, name), viewer === undefined ? undefined : pullableBy(viewer, repos.name)));
  if (!repo) throw new BerthError("NotFound", `the registry has no repository ${name}`);
  const tags = await taggedManifests(db).where(eq(t.repository, name)).orderBy(desc(m.pushedAt), asc(t.tag));
  const sizes = new Map<string, number | null>();
  for (const digest of new Set(tags.map((tag) => tag.digest))) {
    sizes.set(digest, blobs ? await imageSize(blobs, digest) : null);
  }
  return {
    name: repo.name,
    tags: tags.map(({ repository: _, ...tag }) => ({ ...tag, imageSize: sizes.get(tag.digest) ?? null })),
  };
}

/** Config plus layers of the image manifest `digest`; null for an index or a missing or broken manifest. */
async function imageSize(blobs: BlobStore, digest: string): Promise<number | null> {
  const bytes = await readBlob(blobs, digest, MAX_MANIFEST_BYTES);
  if (!bytes) return null;
  try {
    const parsed = parseManifest(bytes);
    if (parsed.kind === "index") return null;
    const { config, layers } = parsed.manifest;
    return config.size + layers.reduce((sum, l) => sum + l.size, 0);
  } catch (err) {
    if (isOciError(err)) return null;
    throw err;
  }
}

export interface BrowsedDescriptor {
  digest: string;
  mediaType: string;
  size: number;
}

export interface BrowsedLayer extends BrowsedDescriptor {
  /** The history entry that made the layer (`created_by`), when the config records it. */
  createdBy: string | null;
}

export interface BrowsedPlatform {
  os: string;
  architecture: string;
  variant: string | null;
}

interface ManifestBase extends BrowsedDescriptor {
  repository: string;
  pushedBy: string | null;
  pushedAt: Date;
  /** Tags of the repository that point at this manifest. */
  tags: string[];
}

export interface ImageManifestDetails extends ManifestBase {
  kind: "manifest";
  config: BrowsedDescriptor;
  layers: BrowsedLayer[];
  /** Config plus layers, compressed: what a pull downloads. */
  totalSize: number;
  /** From the config blob; null when it is not an image config or too large to read here. */
  platform: BrowsedPlatform | null;
  created: string | null;
}

export interface IndexDetails extends ManifestBase {
  kind: "index";
  manifests: (BrowsedDescriptor & { platform: BrowsedPlatform | null })[];
  /** The child manifests' own sizes. */
  totalSize: number;
}

export type ManifestDetails = ImageManifestDetails | IndexDetails;

async function readBlob(blobs: BlobStore, digest: string, limit: number): Promise<Buffer | undefined> {
  const info = await blobs.stat(digest);
  if (!info || info.size > limit) return undefined;
  const stream = await blobs.get(digest);
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function platformOf(p: Platform | ImageConfig | undefined): BrowsedPlatform | null {
  return p ? { os: p.os, architecture: p.architecture, variant: p.variant ?? null } : null;
}

const descriptor = (d: Descriptor): BrowsedDescriptor => ({
  digest: d.digest,
  mediaType: d.mediaType,
  size: d.size,
});

/** The config, if it is small and parses as an image config; the dashboard shows less without it. */
async function readConfig(blobs: BlobStore, config: Descriptor): Promise<ImageConfig | undefined> {
  const bytes = await readBlob(blobs, config.digest, MAX_BROWSED_CONFIG_BYTES);
  if (!bytes) return undefined;
  try {
    return parseImageConfig(bytes);
  } catch (err) {
    if (isOciError(err)) return undefined; // an artifact's config, or a broken one
    throw err;
  }
}

/** `created_by` of each layer, in order: history entries that are not empty layers. */
function layerHistory(config: ImageConfig | undefined): (string | null)[] {
  return (config?.history ?? []).filter((h) => !h.empty_layer).map((h) => h.created_by ?? null);
}

/**
 * A manifest of `repository` read from the registry's blob store: an image
 * manifest's config, layers and platform, or an index's child manifests.
 * NotFound when the repository holds no such manifest, or when `viewer` (a
 * user id) may not pull it.
 */
export async function getManifestDetails(
  db: Db,
  blobs: BlobStore,
  repository: string,
  digest: string,
  viewer?: string,
): Promise<ManifestDetails> {
  const [row] = await db
    .select({
      digest: m.digest,
      mediaType: m.mediaType,
      size: m.size,
      pushedBy: m.pushedBy,
      pushedAt: m.pushedAt,
    })
    .from(m)
    .where(
      and(
        eq(m.repository, repository),
        eq(m.digest, digest),
        viewer === undefined ? undefined : pullableBy(viewer, m.repository),
      ),
    );
  if (!row) throw new BerthError("NotFound", `repository ${repository} has no manifest ${digest}`);
  const tagRows = await db
    .select({ tag: t.tag })
    .from(t)
    .where(and(eq(t.repository, repository), eq(t.digest, digest)))
    .orderBy(asc(t.tag));
  const base: ManifestBase = { repository, ...row, tags: tagRows.map((r) => r.tag) };

  const bytes = await readBlob(blobs, digest, MAX_MANIFEST_BYTES);
  if (!bytes) {
    throw new BerthError(
      "FailedPrecondition",
      `the bytes of manifest ${digest} are missing from the registry's storage; push the image again`,
    );
  }
  let parsed: ReturnType<typeof parseManifest>;
  try {
    parsed = parseManifest(bytes, row.mediaType);
  } catch (err) {
    throw new BerthError("Internal", `manifest ${digest} in storage does not parse`, { cause: err });
  }
  if (parsed.kind === "index") {
    const manifests = parsed.index.manifests.map((d) => ({
      ...descriptor(d),
      platform: platformOf(d.platform),
    }));
    return {
      ...base,
      kind: "index",
      manifests,
      totalSize: manifests.reduce((sum, c) => sum + c.size, 0),
    };
  }
  const { manifest } = parsed;
  const config = await readConfig(blobs, manifest.config);
  const history = layerHistory(config);
  const layers = manifest.layers.map((l, i) => ({ ...descriptor(l), createdBy: history[i] ?? null }));
  return {
    ...base,
    kind: "manifest",
    config: descriptor(manifest.config),
    layers,
    totalSize: manifest.config.size + layers.reduce((sum, l) => sum + l.size, 0),
    platform: platformOf(config),
    created: config?.created ?? null,
  };
}
