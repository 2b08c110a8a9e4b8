import { bigint, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { users } from "./users.ts";

/** Host lifecycle: `ready` while heartbeats arrive, `down` once silent past its TTL. */
export const HOST_STATES = ["ready", "down", "draining"] as const;
export type HostState = (typeof HOST_STATES)[number];

/** Whether the scheduler may place tasks on a host (independent of whether it is up). */
export const HOST_AVAILABILITY = ["active", "drain"] as const;
export type HostAvailability = (typeof HOST_AVAILABILITY)[number];

/** What the agent reported about its machine (validated by @berth/protocol before it is stored). */
export type StoredHostFacts = {
  hostname: string;
  os: string;
  arch: string;
  kernel: string;
  cpus: number;
  memoryBytes: number;
  cgroupMode: "v1" | "v2" | "hybrid";
  runtime: { name: "runc" | "crun"; version: string } | null;
  conmon: { version: string } | null;
  cniPlugins: string[];
};

export const hosts = pgTable(
  "hosts",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    address: text("address"),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    state: text("state", { enum: HOST_STATES }).notNull().default("ready"),
    /** `drain`: an operator asked for its tasks to move away; nothing new is placed on it. */
    availability: text("availability", { enum: HOST_AVAILABILITY }).notNull().default("active"),
    facts: jsonb("facts").$type<StoredHostFacts>().notNull(),
    cpus: integer("cpus").notNull(),
    memoryBytes: bigint("memory_bytes", { mode: "number" }).notNull(),
    agentVersion: text("agent_version").notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("hosts_state_last_seen_idx").on(t.state, t.lastSeenAt)],
);

/** The per-host secret an agent receives when it joins. Only its SHA-256 is kept. */
export const hostCredentials = pgTable("host_credentials", {
  hostId: text("host_id")
    .primaryKey()
    .references(() => hosts.id, { onDelete: "cascade" }),
  secretHash: text("secret_hash").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** One-time (or N-time) tokens that let a new agent join. Only the SHA-256 is kept. */
export const joinTokens = pgTable("join_tokens", {
  id: text("id").primaryKey(),
  tokenHash: text("token_hash").notNull().unique(),
  description: text("description").notNull().default(""),
  maxUses: integer("max_uses").notNull().default(1),
  uses: integer("uses").notNull().default(0),
  createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
});
