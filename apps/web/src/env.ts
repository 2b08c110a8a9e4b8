import os from "node:os";
import path from "node:path";
import { z } from "zod";

/** Every setting of the control plane. Nothing else in apps/web reads process.env. */
const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  BERTH_HOME: z.string().default(path.join(os.homedir(), ".berth")),
  DATABASE_URL: z.url().optional(),
  BERTH_PUBLIC_URL: z.url().optional(),
  BERTH_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  BERTH_ADMIN_PASSWORD: z.string().min(10).optional(),
  BERTH_HOST_TTL_MS: z.coerce.number().int().min(100).default(15_000),
  BERTH_HEARTBEAT_MS: z.coerce.number().int().min(50).default(5_000),
  BERTH_LEADER_RETRY_MS: z.coerce.number().int().min(50).default(2_000),
  BERTH_REGISTRY_GC_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(24 * 3600_000),
  BERTH_REGISTRY_GC_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(6 * 3600_000),
  BERTH_LOCAL_AGENT: z
    .enum(["0", "1", "true", "false"])
    .default("0")
    .transform((v) => v === "1" || v === "true"),
});

export type Env = z.infer<typeof envSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`invalid environment: ${z.prettifyError(parsed.error)}`);
  }
  if (parsed.data.BERTH_HEARTBEAT_MS * 2 > parsed.data.BERTH_HOST_TTL_MS) {
    throw new Error("invalid environment: BERTH_HOST_TTL_MS must be at least twice BERTH_HEARTBEAT_MS");
  }
  return parsed.data;
}
