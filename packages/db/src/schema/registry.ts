import { bigint, index, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** A repository of the built-in registry: it exists once a manifest is pushed to it. */
export const registryRepositories = pgTable("registry_repositories", {
  name: text("name").primaryKey(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** A manifest (or index) stored in a repository; its bytes are a blob under its digest. */
export const registryManifests = pgTable(
  "registry_manifests",
  {
    repository: text("repository").notNull(),
    digest: text("digest").notNull(),
    mediaType: text("media_type").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    /** Config and layer digests (empty for an index). */
    blobs: jsonb("blobs").$type<string[]>().notNull(),
    /** Child manifest digests of an index. */
    manifests: jsonb("manifests").$type<string[]>().notNull(),
    pushedBy: text("pushed_by"),
    pushedAt: timestamp("pushed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.repository, t.digest] })],
);

export const registryTags = pgTable(
  "registry_tags",
  {
    repository: text("repository").notNull(),
    tag: text("tag").notNull(),
    digest: text("digest").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.repository, t.tag] }),
    index("registry_tags_digest_idx").on(t.repository, t.digest),
  ],
);

/** Which repository may read which blob (after an upload to it or a mount into it). */
export const registryBlobLinks = pgTable(
  "registry_blob_links",
  {
    repository: text("repository").notNull(),
    digest: text("digest").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.repository, t.digest] }),
    index("registry_blob_links_digest_idx").on(t.digest),
  ],
);

/** Small server-wide settings, such as the key that signs registry tokens. */
export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
