/** Anything the API sends as a timestamp: an ISO string over JSON, or a Date. */
export type Timestamp = string | Date;

export function toMillis(t: Timestamp): number {
  return typeof t === "string" ? Date.parse(t) : t.getTime();
}

/** "3s ago", "5m ago", "in 23h", "just now". Units grow at 60s, 60m and 48h. */
export function relativeTime(t: Timestamp, now: number): string {
  const ms = toMillis(t);
  if (Number.isNaN(ms)) return "-";
  const diff = now - ms;
  const seconds = Math.round(Math.abs(diff) / 1000);
  if (seconds === 0) return "just now";
  const span = approximateSpan(seconds);
  return diff >= 0 ? `${span} ago` : `in ${span}`;
}

function approximateSpan(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.round(hours / 24)}d`;
}

/** "2025-01-31 09:04:05 UTC": exact, sortable, the same wherever it is printed. */
export function absoluteTime(t: Timestamp): string {
  const ms = toMillis(t);
  if (Number.isNaN(ms)) return "-";
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** "3s ago (2025-01-31 09:04:05 UTC)". */
export function whenText(t: Timestamp | null | undefined, now: number): string {
  if (t === null || t === undefined) return "-";
  return `${relativeTime(t, now)} (${absoluteTime(t)})`;
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Binary units, one decimal below 10: 512 MiB, 7.6 GiB, 64 GiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "-";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown =
    unit === 0 || value >= 10 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, "");
  return `${shown} ${BYTE_UNITS[unit]}`;
}
