/** The forms a health check's test takes (Docker/Compose) and where a network probe is aimed. */

/**
 * `["CMD", …args]` → args; `["CMD-SHELL", script]` → `/bin/sh -c script`;
 * `["NONE"]` or empty → null (no check); anything else is already an argv.
 */
export function healthCommandArgv(test: readonly string[]): string[] | null {
  const [kind, ...rest] = test;
  if (kind === undefined || kind === "NONE") return null;
  if (kind === "CMD") return rest.length > 0 ? rest : null;
  if (kind === "CMD-SHELL") return rest.length > 0 ? ["/bin/sh", "-c", rest.join(" ")] : null;
  return [...test];
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "0.0.0.0"]);

/**
 * The URL to GET from the host: a health check written from inside the
 * container ("http://localhost:8080/health", or just "/health") is aimed at
 * the container's address instead.
 */
export function probeUrl(url: string, address: string, defaultPort?: number): string {
  const host = address.includes(":") ? `[${address}]` : address;
  if (url.startsWith("/")) return `http://${host}${defaultPort ? `:${defaultPort}` : ""}${url}`;
  const parsed = new URL(url);
  if (LOCAL_HOSTS.has(parsed.hostname)) parsed.hostname = host;
  return parsed.toString();
}
