ALTER TABLE "teams" ADD COLUMN "slug" text;--> statement-breakpoint
-- Existing teams get a slug from their name (lower case, runs of other characters as one dash);
-- a name that yields nothing, or a slug taken by an older team, gets the team's id appended.
WITH base AS (
	SELECT "id", trim(both '-' from regexp_replace(lower("name"), '[^a-z0-9]+', '-', 'g')) AS "s", "created_at"
	FROM "teams"
), ranked AS (
	SELECT "id", "s", row_number() OVER (PARTITION BY "s" ORDER BY "created_at", "id") AS "n" FROM base
)
UPDATE "teams" SET "slug" = CASE
	WHEN ranked."s" = '' THEN regexp_replace(lower(ranked."id"), '[^a-z0-9]+', '-', 'g')
	WHEN ranked."n" = 1 THEN left(ranked."s", 63)
	ELSE left(ranked."s", 40) || '-' || regexp_replace(lower(ranked."id"), '[^a-z0-9]+', '-', 'g')
END
FROM ranked WHERE ranked."id" = "teams"."id";--> statement-breakpoint
ALTER TABLE "teams" ALTER COLUMN "slug" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "teams" ADD CONSTRAINT "teams_slug_unique" UNIQUE("slug");
