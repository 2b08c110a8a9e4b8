import { BerthError } from "@berth/protocol";
import { z } from "zod";
import { LOG_LEVELS } from "./logger.ts";
import { serverUrlSchema } from "./url.ts";

/** An unset variable and an empty one mean the same: not given. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

export const DEFAULT_STATE_DIR = "/var/lib/berth/agent";

const envSchema = z.object({
  /** Control-plane URL: http(s):// or ws(s)://. */
  BERTH_SERVER: optional(serverUrlSchema),
  /** One-time join token; needed only until the host holds a credential. */
  BERTH_JOIN_TOKEN: optional(z.string().min(1)),
  BERTH_AGENT_STATE_DIR: optional(z.string().min(1)).transform((dir) => dir ?? DEFAULT_STATE_DIR),
  BERTH_LOG_LEVEL: optional(z.enum(LOG_LEVELS)).transform((level) => level ?? "info"),
  /**
   * "HOST=USER:PASSWORD": credentials for one registry, used by pull, push and run (the berth CLI
   * passes its login this way, out of sight of ps); --creds overrides it.
   */
  BERTH_REGISTRY_CREDS: optional(z.string().regex(/^[^=\s]+=[^:\s]+:.+$/s, "use HOST=USER:PASSWORD")),
  /** "false" forbids containers to bind-mount host paths (named volumes still work). */
  BERTH_ALLOW_HOST_BINDS: optional(z.enum(["true", "false", "1", "0"])).transform(
    (v) => v !== "false" && v !== "0",
  ),
});

export type AgentEnv = z.infer<typeof envSchema>;

/**
 * Read and validate the agent's environment. The only place in the agent that
 * reads `process.env`; everything else receives config as arguments.
 */
export function loadEnv(source: Record<string, string | undefined> = process.env): AgentEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new BerthError("InvalidArgument", `invalid environment: ${issues.join("; ")}`);
  }
  return parsed.data;
}

const systemEnvSchema = z.object({ PATH: z.string().optional() });

/** The few system variables the agent needs whatever command runs (no BERTH_* validation). */
export function loadSystemEnv(source: Record<string, string | undefined> = process.env): { PATH?: string } {
  return systemEnvSchema.parse(source);
}
