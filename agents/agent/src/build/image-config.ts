import { createHash } from "node:crypto";

/** The container defaults of an OCI image config, with Docker's extensions (Shell, Healthcheck). */
export interface ContainerDefaults {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Shell?: string[];
  Healthcheck?: Healthcheck;
}

/** Docker's healthcheck in an image config; durations in nanoseconds. */
export interface Healthcheck {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  author?: string;
  empty_layer?: boolean;
}

/** What a build step works on: the layers so far (store diff IDs) and the config. */
export interface BuildState {
  layers: string[];
  config: ContainerDefaults;
  author?: string;
  history: HistoryEntry[];
  /** Bytes of the regular files of all layers (the store's image size). */
  size?: number;
}

export const DEFAULT_SHELL = ["/bin/sh", "-c"];

export function emptyState(): BuildState {
  return { layers: [], config: {}, history: [] };
}

/** "KEY=value" list → map (later entries win). */
export function envMap(env: readonly string[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of env ?? []) {
    const eq = entry.indexOf("=");
    if (eq === -1) map.set(entry, "");
    else map.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return map;
}

/** Set `key` in a "KEY=value" list, keeping its position when it exists. */
export function putEnv(env: readonly string[] | undefined, key: string, value: string): string[] {
  const out = [...(env ?? [])];
  const at = out.findIndex((e) => e === key || e.startsWith(`${key}=`));
  if (at === -1) out.push(`${key}=${value}`);
  else out[at] = `${key}=${value}`;
  return out;
}

/** JSON with sorted object keys: the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Identity of a state for the cache: its layers and config (never its history's timestamps). */
export function stateId(state: BuildState): string {
  return `sha256:${sha256(canonicalJson({ layers: state.layers, config: state.config, author: state.author ?? null }))}`;
}
