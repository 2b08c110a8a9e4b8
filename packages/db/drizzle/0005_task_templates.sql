CREATE TABLE "task_templates" (
	"digest" text PRIMARY KEY NOT NULL,
	"spec" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Tasks written before this migration carried their spec: keep one template per digest.
INSERT INTO "task_templates" ("digest", "spec") SELECT DISTINCT ON ("digest") "digest", "spec" FROM "tasks" ON CONFLICT DO NOTHING;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_digest_task_templates_digest_fk" FOREIGN KEY ("digest") REFERENCES "public"."task_templates"("digest") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" DROP COLUMN "spec";