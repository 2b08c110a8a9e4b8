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
 * The control plane's built-in registry as the daemon knows it: at the
 * server's host:port, plain http when the server is, and the host's own
 * credential (the registry lets a host pull any repository).
 */
export interface ControlPlaneRegistry {
  registry: string;
  insecure: boolean;
  credentials(): Credentials | undefined;
}

export function controlPlaneRegistry(
  server: string,
  credentials: () => Credentials | undefined,
): ControlPlaneRegistry {
  const url = new URL(server);
  return { registry: url.host, insecure: url.protocol === "http:" || url.protocol === "ws:", credentials };
}

/**
 * A registry client for the CLI and the daemon: plain http for loopback registries and those
 * named with --insecure-registry; --creds for any registry, else BERTH_REGISTRY_CREDS for its
 * own; the daemon's control-plane registry with the host's credential.
 */
export function registryClientFor(
  flags: RegistryFlags,
  env: { BERTH_REGISTRY_CREDS?: string | undefined } = loadEnv(),
  controlPlane?: ControlPlaneRegistry,
): RegistryClient {
  return createRegistryClient({ userAgent: "berth-agent", ...registryPolicy(flags, env, controlPlane) });
}

/** Which registries are plain http, and which credentials go to which registry. */
export function registryPolicy(
  flags: RegistryFlags,
  env: { BERTH_REGISTRY_CREDS?: string | undefined },
  controlPlane?: ControlPlaneRegistry,
): { insecure(registry: string): boolean; credentials(registry: string): Credentials | undefined } {
  const insecure = new Set(flags.insecureRegistry ?? []);
  const given = flags.creds === undefined ? undefined : parseCreds(flags.creds);
  const fromEnv = envCredentials(env.BERTH_REGISTRY_CREDS);
  const ours = (registry: string) => controlPlane !== undefined && controlPlane.registry === registry;
  return {
    insecure: (registry) =>
      insecure.has(registry) || isLoopbackRegistry(registry) || (ours(registry) && controlPlane!.insecure),
    credentials: (registry) =>
      given ??
      (fromEnv?.registry === registry ? fromEnv.creds : undefined) ??
      (ours(registry) ? controlPlane!.credentials() : undefined),
  };
}
