CREATE TABLE "host_task_sets" (
	"host_id" text PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" text PRIMARY KEY NOT NULL,
	"stack_id" text NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"previous_spec" jsonb,
	"generation" integer DEFAULT 1 NOT NULL,
	"digest" text NOT NULL,
	"update_state" text DEFAULT 'completed' NOT NULL,
	"update_started_at" timestamp with time zone,
	"update_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "services_stack_name_unique" UNIQUE("stack_id","name")
);
--> statement-breakpoint
CREATE TABLE "stack_revisions" (
	"id" text PRIMARY KEY NOT NULL,
	"stack_id" text NOT NULL,
	"n" integer NOT NULL,
	"kind" text NOT NULL,
	"yaml" text NOT NULL,
	"spec" jsonb NOT NULL,
	"restored_from" integer,
	"author_id" text,
	"author_name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stack_revisions_stack_n_unique" UNIQUE("stack_id","n")
);
--> statement-breakpoint
CREATE TABLE "stacks" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"name" text NOT NULL,
	"revision" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stacks_team_name_unique" UNIQUE("team_id","name")
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"service_id" text NOT NULL,
	"slot" integer NOT NULL,
	"generation" integer NOT NULL,
	"digest" text NOT NULL,
	"spec" jsonb NOT NULL,
	"host_id" text,
	"desired" text DEFAULT 'running' NOT NULL,
	"observed" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"container_id" text,
	"exit_code" integer,
	"version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "host_task_sets" ADD CONSTRAINT "host_task_sets_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_stack_id_stacks_id_fk" FOREIGN KEY ("stack_id") REFERENCES "public"."stacks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stack_revisions" ADD CONSTRAINT "stack_revisions_stack_id_stacks_id_fk" FOREIGN KEY ("stack_id") REFERENCES "public"."stacks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stacks" ADD CONSTRAINT "stacks_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tasks_service_idx" ON "tasks" USING btree ("service_id","slot");--> statement-breakpoint
CREATE INDEX "tasks_host_idx" ON "tasks" USING btree ("host_id","desired");--> statement-breakpoint
CREATE INDEX "tasks_desired_observed_idx" ON "tasks" USING btree ("desired","observed");