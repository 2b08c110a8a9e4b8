import { type Db, schema } from "@berth/db";
import type { ListPage, ManifestRecord, RegistryMetadata } from "@berth/oci";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { pullableBy } from "./access.ts";

const m = schema.registryManifests;
const t = schema.registryTags;
const links = schema.registryBlobLinks;
const repos = schema.registryRepositories;

function limit(page: ListPage): number {
  return page.n === undefined ? 100_000 : Math.max(0, page.n);
}

export interface PgRegistryMetadataOptions {
  /** Who pushes the manifest being stored (the request's caller). */
  pushedBy?: () => string | null;
  /**
   * The user the catalog is for (the request's caller): it then lists only
   * the repositories they may pull; with no user, nothing. Without this
   * option the catalog lists everything.
   */
  catalogFor?: () => string | null;
  /** Called after a manifest or tag of `repository` was stored or deleted. */
  onChange?: (repository: string) => void;
}

/**
 * The registry's metadata in Postgres, so every control-plane replica serves
 * the same registry. A manifest push (record, tag, blob link, repository) is
 * one transaction.
 */
export function createPgRegistryMetadata(db: Db, options: PgRegistryMetadataOptions = {}): RegistryMetadata {
  const changed = (repository: string) => options.onChange?.(repository);
  return {
    async putManifest(repository, manifest, tag) {
      await db.transaction(async (tx) => {
        await tx
          .insert(repos)
          .values({ name: repository })
          .onConflictDoUpdate({ target: repos.name, set: { updatedAt: new Date() } });
        await tx
          .insert(m)
          .values({
            repository,
            digest: manifest.digest,
            mediaType: manifest.mediaType,
            size: manifest.size,
            blobs: manifest.blobs,
            manifests: manifest.manifests,
            pushedBy: options.pushedBy?.() ?? null,
          })
          .onConflictDoNothing();
        await tx.insert(links).values({ repository, digest: manifest.digest }).onConflictDoNothing();
        if (tag !== undefined) {
          await tx
            .insert(t)
            .values({ repository, tag, digest: manifest.digest })
            .onConflictDoUpdate({
              target: [t.repository, t.tag],
              set: { digest: manifest.digest, updatedAt: new Date() },
            });
        }
      });
      changed(repository);
    },
    async getManifest(repository, digest) {
      const [row] = await db
        .select({
          digest: m.digest,
          mediaType: m.mediaType,
          size: m.size,
          blobs: m.blobs,
          manifests: m.manifests,
        })
        .from(m)
        .where(and(eq(m.repository, repository), eq(m.digest, digest)));
      return row satisfies ManifestRecord | undefined;
    },
    async deleteManifest(repository, digest) {
      const deleted = await db.transaction(async (tx) => {
        const gone = await tx
          .delete(m)
          .where(and(eq(m.repository, repository), eq(m.digest, digest)))
          .returning({ digest: m.digest });
        await tx.delete(t).where(and(eq(t.repository, repository), eq(t.digest, digest)));
        return gone.length > 0;
      });
      if (deleted) changed(repository);
      return deleted;
    },
    async resolveTag(repository, tag) {
      const [row] = await db
        .select({ digest: t.digest })
        .from(t)
        .where(and(eq(t.repository, repository), eq(t.tag, tag)));
      return row?.digest;
    },
    async deleteTag(repository, tag) {
      const gone = await db
        .delete(t)
        .where(and(eq(t.repository, repository), eq(t.tag, tag)))
        .returning({ tag: t.tag });
      if (gone.length > 0) changed(repository);
      return gone.length > 0;
    },
    async listTags(repository, page) {
      const [repo] = await db.select({ name: repos.name }).from(repos).where(eq(repos.name, repository));
      if (!repo) return undefined;
      const rows = await db
        .select({ tag: t.tag })
        .from(t)
        .where(and(eq(t.repository, repository), page.last !== undefined ? gt(t.tag, page.last) : undefined))
        .orderBy(sql`${t.tag} collate "C"`)
        .limit(limit(page));
      return rows.map((r) => r.tag);
    },
    async listRepositories(page) {
      const userId = options.catalogFor ? options.catalogFor() : undefined;
      if (userId === null) return [];
      const rows = await db
        .select({ name: repos.name })
        .from(repos)
        .where(
          and(
            page.last !== undefined ? gt(repos.name, page.last) : undefined,
            userId !== undefined ? pullableBy(userId, repos.name) : undefined,
          ),
        )
        .orderBy(sql`${repos.name} collate "C"`)
        .limit(limit(page));
      return rows.map((r) => r.name);
    },
    async linkBlob(repository, digest) {
      await db.insert(links).values({ repository, digest }).onConflictDoNothing();
    },
    async hasBlob(repository, digest) {
      const [row] = await db
        .select({ digest: links.digest })
        .from(links)
        .where(and(eq(links.repository, repository), eq(links.digest, digest)));
      return row !== undefined;
    },
    async unlinkBlob(repository, digest) {
      const gone = await db
        .delete(links)
        .where(and(eq(links.repository, repository), eq(links.digest, digest)))
        .returning({ digest: links.digest });
      return gone.length > 0;
    },
    async forgetBlob(digest) {
      await db.delete(links).where(eq(links.digest, digest));
    },
    async referencedDigests() {
      const rows = await db.select({ digest: m.digest, blobs: m.blobs, manifests: m.manifests }).from(m);
      const all = new Set<string>();
      for (const r of rows) {
        all.add(r.digest);
        for (const d of r.blobs) all.add(d);
        for (const d of r.manifests) all.add(d);
      }
      return all;
    },
  };
}

/** Every tag with the manifest it points at (add where/orderBy as needed). */
export function taggedManifests(db: Db) {
  return db
    .select({
      repository: t.repository,
      tag: t.tag,
      digest: t.digest,
      mediaType: m.mediaType,
      size: m.size,
      pushedBy: m.pushedBy,
      pushedAt: m.pushedAt,
    })
    .from(t)
    .innerJoin(m, and(eq(m.repository, t.repository), eq(m.digest, t.digest)))
    .$dynamic();
}

/** What the dashboard's registry page shows: repositories with their tags, digests, sizes and pushers. */
export async function listRegistryRepositories(db: Db) {
  return taggedManifests(db).orderBy(asc(t.repository), asc(t.tag));
}
