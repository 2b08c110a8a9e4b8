/** A date from the API: an ISO string over JSON, or a Date. */
export function toDate(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** `2026-11-27 14:03:05` in the viewer's time zone. */
export function formatDateTime(value: Date | string | null | undefined): string {
  const d = toDate(value);
  if (!d) return "—";
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * `12s ago`, `4m ago`, `in 23h`, `just now`. With `past`, a time slightly
 * ahead of this browser's clock (skew with the server) reads `just now`.
 */
export function formatRelative(value: Date | string | null | undefined, now: number, past = false): string {
  const d = toDate(value);
  if (!d) return "—";
  const diffMs = past ? Math.max(0, now - d.getTime()) : now - d.getTime();
  const future = diffMs <= -2000;
  const s = Math.floor(Math.abs(diffMs) / 1000);
  if (s < 2) return "just now";
  const span =
    s < 60
      ? `${s}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m`
        : s < 86_400
          ? `${Math.floor(s / 3600)}h`
          : `${Math.floor(s / 86_400)}d`;
  return future ? `in ${span}` : `${span} ago`;
}

/** Memory in binary units: `15.6 GiB`, `512 MiB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  const gib = bytes / 2 ** 30;
  if (gib >= 1) return `${gib >= 100 ? gib.toFixed(0) : gib.toFixed(1)} GiB`;
  const mib = bytes / 2 ** 20;
  return `${mib.toFixed(0)} MiB`;
}

/** The command that joins a host to this control plane. */
export function agentCommand(origin: string, token: string): string {
  return `berth-agent --server ${origin} --join-token ${token}`;
}

/** Where a host should point its agent: the origin this dashboard is served from. */
export function currentOrigin(): string {
  return typeof window === "undefined" ? "https://berth.example.com" : window.location.origin;
}

/** Image and layer sizes: `512 B`, `4.2 KiB`, `18.3 MiB`, `1.2 GiB`. */
export function formatSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** `sha256:0123456789ab`: the algorithm and the first 12 hex digits, as `docker images` shows them. */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.split(":", 2);
  return hex ? `${algorithm}:${hex.slice(0, 12)}` : digest;
}

/** The host:port clients push to: the one this dashboard is served from. */
export function currentHost(): string {
  return typeof window === "undefined" ? "berth.example.com" : window.location.host;
}
