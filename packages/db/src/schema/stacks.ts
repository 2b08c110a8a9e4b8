import { bigint, index, integer, jsonb, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";
import { hosts } from "./hosts.ts";
import { teams } from "./users.ts";

/**
 * Stacks, their immutable revisions, their services and the services'
 * tasks. Specs are stored as the JSON @berth/spec produces (this package
 * imports none of Berth's others, so they are typed loosely here and checked
 * by packages/control).
 */
export type StoredSpec = Record<string, unknown>;

export const stacks = pgTable(
  "stacks",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "restrict" }),
    name: text("name").notNull(),
    /** The revision now in force (0 before the first deploy completes its write). */
    revision: integer("revision").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("stacks_team_name_unique").on(t.teamId, t.name)],
);

export const REVISION_KINDS = ["deploy", "rollback", "scale"] as const;

/** Every deploy, rollback or scale writes one; never changed afterwards. */
export const stackRevisions = pgTable(
  "stack_revisions",
  {
    id: text("id").primaryKey(),
    stackId: text("stack_id")
      .notNull()
      .references(() => stacks.id, { onDelete: "cascade" }),
    n: integer("n").notNull(),
    kind: text("kind", { enum: REVISION_KINDS }).notNull(),
    yaml: text("yaml").notNull(),
    spec: jsonb("spec").$type<StoredSpec>().notNull(),
    /** For a rollback: the revision whose spec it restored. */
    restoredFrom: integer("restored_from"),
    authorId: text("author_id"),
    authorName: text("author_name").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("stack_revisions_stack_n_unique").on(t.stackId, t.n)],
);

export const UPDATE_STATES = ["completed", "updating", "paused", "rolling_back", "rolled_back"] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];

export const services = pgTable(
  "services",
  {
    id: text("id").primaryKey(),
    stackId: text("stack_id")
      .notNull()
      .references(() => stacks.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    spec: jsonb("spec").$type<StoredSpec>().notNull(),
    /** The spec before the last update: what an automatic rollback restores. */
    previousSpec: jsonb("previous_spec").$type<StoredSpec>(),
    /** Bumped whenever the spec changes. */
    generation: integer("generation").notNull().default(1),
    /** templateDigest of the spec: tasks with another digest are out of date. */
    digest: text("digest").notNull(),
    updateState: text("update_state", { enum: UPDATE_STATES }).notNull().default("completed"),
    updateStartedAt: timestamp("update_started_at", { withTimezone: true }),
    updateMessage: text("update_message"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("services_stack_name_unique").on(t.stackId, t.name)],
);

/**
 * What tasks run, stored once per distinct service spec (content-addressed by
 * templateDigest), not once per task: ten thousand replicas share one row.
 */
export const taskTemplates = pgTable("task_templates", {
  digest: text("digest").primaryKey(),
  spec: jsonb("spec").$type<StoredSpec>().notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const TASK_DESIRED = ["running", "shutdown"] as const;
export type TaskDesired = (typeof TASK_DESIRED)[number];

export const TASK_OBSERVED = [
  "pending",
  "assigned",
  "pulling",
  "starting",
  "running",
  "unhealthy",
  "exited",
  "failed",
  "lost",
  "shutdown",
] as const;
export type TaskObserved = (typeof TASK_OBSERVED)[number];

export const tasks = pgTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    slot: integer("slot").notNull(),
    /** The service generation it belongs to, and the template (by digest) it runs. */
    generation: integer("generation").notNull(),
    digest: text("digest")
      .notNull()
      .references(() => taskTemplates.digest),
    hostId: text("host_id").references(() => hosts.id, { onDelete: "set null" }),
    desired: text("desired", { enum: TASK_DESIRED }).notNull().default("running"),
    observed: text("observed", { enum: TASK_OBSERVED }).notNull().default("pending"),
    /** Why it is in its state: "no host can run it (…)", "exited with 1", "host down", … */
    reason: text("reason"),
    containerId: text("container_id"),
    exitCode: integer("exit_code"),
    /** Optimistic concurrency: every write bumps it and checks the value it read. */
    version: integer("version").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    index("tasks_service_idx").on(t.serviceId, t.slot),
    index("tasks_host_idx").on(t.hostId, t.desired),
    index("tasks_desired_observed_idx").on(t.desired, t.observed),
  ],
);

/** Per host, the version of its task set; bumped whenever a task on it changes. */
export const hostTaskSets = pgTable("host_task_sets", {
  hostId: text("host_id")
    .primaryKey()
    .references(() => hosts.id, { onDelete: "cascade" }),
  version: bigint("version", { mode: "number" }).notNull().default(0),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
