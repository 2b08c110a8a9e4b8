import { type Credentials, createRegistryClient, isLoopbackRegistry, type RegistryClient } from "@berth/oci";
import { loadEnv } from "../../env.ts";
import { usageError } from "../io.ts";

/** The registry flags pull and push share. */
export interface RegistryFlags {
  insecureRegistry?: string[];
  creds?: string;
}

/** "USER:PASSWORD" → credentials (the password may hold colons). */
export function parseCreds(text: string, what = "--creds"): Credentials {
  const at = text.indexOf(":");
  if (at <= 0) throw usageError(`${what}: use USER:PASSWORD`);
  return { username: text.slice(0, at), password: text.slice(at + 1) };
}

/** BERTH_REGISTRY_CREDS ("HOST=USER:PASSWORD") as credentials for that one registry. */
function envCredentials(value: string | undefined): { registry: string; creds: Credentials } | null {
  if (value === undefined) return null;
  const at = value.indexOf("=");
  return { registry: value.slice(0, at), creds: parseCreds(value.slice(at + 1), "BERTH_REGISTRY_CREDS") };
}

/**
 * A registry client for the CLI: plain http for loopback registries and those named with
 * --insecure-registry; --creds for any registry, else BERTH_REGISTRY_CREDS for its own.
 */
export function registryClientFor(
  flags: RegistryFlags,
  env: { BERTH_REGISTRY_CREDS?: string | undefined } = loadEnv(),
): RegistryClient {
  const insecure = new Set(flags.insecureRegistry ?? []);
  const given = flags.creds === undefined ? undefined : parseCreds(flags.creds);
  const fromEnv = envCredentials(env.BERTH_REGISTRY_CREDS);
  return createRegistryClient({
    userAgent: "berth-agent",
    insecure: (registry) => insecure.has(registry) || isLoopbackRegistry(registry),
    credentials: (registry) => given ?? (fromEnv?.registry === registry ? fromEnv.creds : undefined),
  });
}
