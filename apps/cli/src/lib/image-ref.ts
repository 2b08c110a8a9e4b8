/**
 * Where `berth pull|push` send an image. The rule (Docker's for telling a registry host from a
 * repository, with the Berth server's registry as the default instead of Docker Hub):
 *
 * - `HOST/…` — the first component names a registry when it has a `.` or a `:`, or is `localhost`
 *   (`registry.example.com/app`, `127.0.0.1:3000/team/app:1`, `docker.io/library/busybox`): as written;
 * - anything else (`app:1`, `my-team/app:1`) is on the Berth server's registry: `<server host>/app:1`.
 */

/** The registry host a reference names, or null for a short name. */
export function registryOf(ref: string): string | null {
  const slash = ref.indexOf("/");
  if (slash === -1) return null;
  const first = ref.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : null;
}

/** The registry host (host[:port]) of a Berth server URL, as image references write it. */
export function registryHost(server: string): string {
  return new URL(server).host;
}

/** `ref` with the Berth registry in front when it names no registry. */
export function qualify(ref: string, berthRegistry: string): string {
  return registryOf(ref) === null ? `${berthRegistry}/${ref}` : ref;
}

/** True for hosts a registry client reaches over plain http anyway (the agent's rule). */
export function isLoopback(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return name === "localhost" || name === "127.0.0.1" || name === "[::1]";
}
