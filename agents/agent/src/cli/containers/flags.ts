import type { MountSpec, PortMapping, RestartPolicy } from "../../runtime/types.ts";
import { usageError } from "../io.ts";

/** Docker-style byte sizes: 512, 64k, 128m, 1g (binary units). */
export function parseBytes(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)i?b?$/i.exec(value.trim());
  if (!m) throw usageError(`${flag}: "${value}" is not a size: use a number and a unit, e.g. 64m or 1g`);
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    m[2]!.toLowerCase() as "" | "b" | "k" | "m" | "g"
  ];
  return Math.round(Number(m[1]) * unit);
}

/** Go-style durations as Docker takes them: 500ms, 30s, 1m30s, 2h. */
export function parseDurationMs(flag: string, value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== value) {
    throw usageError(`${flag}: "${value}" is not a duration: use e.g. 500ms, 30s, 1m30s`);
  }
  return Math.round(parts.reduce((ms, p) => ms + Number(p[1]) * units[p[2]!]!, 0));
}

function port(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65_535)
    throw usageError(`${flag}: "${text}" is not a port (1–65535)`);
  return n;
}

/** -p [ip:]hostPort:containerPort[/tcp|udp], or containerPort alone (host port chosen by the agent). */
export function parsePublish(value: string): PortMapping {
  const [spec, proto = "tcp", extra] = value.split("/");
  if (extra !== undefined || (proto !== "tcp" && proto !== "udp")) {
    throw usageError(`-p: "${value}": the protocol is tcp or udp`);
  }
  const parts = spec!.split(":");
  if (parts.length === 1) return { hostPort: 0, containerPort: port("-p", parts[0]!), protocol: proto };
  if (parts.length === 2) {
    return { hostPort: port("-p", parts[0]!), containerPort: port("-p", parts[1]!), protocol: proto };
  }
  if (parts.length === 3) {
    return {
      hostIp: parts[0]!,
      hostPort: port("-p", parts[1]!),
      containerPort: port("-p", parts[2]!),
      protocol: proto,
    };
  }
  throw usageError(`-p: "${value}" is not [ip:]hostPort:containerPort[/proto]`);
}

/** -v SOURCE:TARGET[:ro|rw]: SOURCE is an absolute host path (bind) or a volume name. */
export function parseVolume(value: string): MountSpec {
  const parts = value.split(":");
  if (parts.length < 2 || parts.length > 3) {
    throw usageError(`-v: "${value}" is not SOURCE:TARGET[:ro]`);
  }
  const [source, target, mode = "rw"] = parts as [string, string, string?];
  if (mode !== "ro" && mode !== "rw") throw usageError(`-v: "${value}": the mode is ro or rw`);
  if (!target.startsWith("/")) throw usageError(`-v: the target "${target}" must be an absolute path`);
  return { type: source.startsWith("/") ? "bind" : "volume", source, target, readOnly: mode === "ro" };
}

export function parseTmpfs(value: string): MountSpec {
  if (!value.startsWith("/")) throw usageError(`--tmpfs: "${value}" must be an absolute path`);
  return { type: "tmpfs", source: "", target: value, readOnly: false };
}

/** --restart no | on-failure[:max] | always | unless-stopped */
export function parseRestart(value: string): RestartPolicy {
  if (value === "no" || value === "always" || value === "unless-stopped") return { name: value };
  const m = /^on-failure(?::(\d+))?$/.exec(value);
  if (m) return m[1] ? { name: "on-failure", maxRetries: Number(m[1]) } : { name: "on-failure" };
  throw usageError(`--restart: "${value}" is not no, on-failure[:max], always or unless-stopped`);
}

/** -e KEY=VALUE (repeatable). */
export function parseEnv(values: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw usageError(`-e: "${v}" is not KEY=VALUE`);
    env[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return env;
}

export function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    labels[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? "" : v.slice(eq + 1);
  }
  return labels;
}

export function parseCpus(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1024)
    throw usageError(`--cpus: "${value}" is not a number of CPUs, e.g. 0.5`);
  return n;
}

export function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw usageError(`${flag}: "${value}" is not a positive whole number`);
  return n;
}

/** Commander's collector for repeatable options. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
