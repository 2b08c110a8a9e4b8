CREATE TABLE "registry_blob_links" (
	"repository" text NOT NULL,
	"digest" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "registry_blob_links_repository_digest_pk" PRIMARY KEY("repository","digest")
);
--> statement-breakpoint
CREATE TABLE "registry_manifests" (
	"repository" text NOT NULL,
	"digest" text NOT NULL,
	"media_type" text NOT NULL,
	"size" bigint NOT NULL,
	"blobs" jsonb NOT NULL,
	"manifests" jsonb NOT NULL,
	"pushed_by" text,
	"pushed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "registry_manifests_repository_digest_pk" PRIMARY KEY("repository","digest")
);
--> statement-breakpoint
CREATE TABLE "registry_repositories" (
	"name" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registry_tags" (
	"repository" text NOT NULL,
	"tag" text NOT NULL,
	"digest" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "registry_tags_repository_tag_pk" PRIMARY KEY("repository","tag")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "registry_blob_links_digest_idx" ON "registry_blob_links" USING btree ("digest");--> statement-breakpoint
CREATE INDEX "registry_tags_digest_idx" ON "registry_tags" USING btree ("repository","digest");