import type { Context, Path } from "./context.ts";
import { PORT_KEYS } from "./keys.ts";
import type { PortSpec, Protocol } from "./model.ts";
import { describe } from "./units.ts";

/** Ports one short-syntax entry may expand to ("8000-8099:8000-8099"). */
const MAX_RANGE = 100;

/**
 * `ports:` in both of Compose's syntaxes. Short: "8080", "80:8080",
 * "127.0.0.1:80:8080/udp", "[::1]:80:8080", ranges "8000-8002:9000-9002".
 * Long: { target, published, protocol, host_ip, mode }. A published port is
 * bound on the host where the task runs (Swarm's mode: host).
 */
export function readPorts(ctx: Context, v: unknown, path: Path): PortSpec[] {
  const list = ctx.list(v, path) ?? [];
  const out: PortSpec[] = [];
  list.forEach((item, i) => {
    const at = [...path, i];
    if (typeof item === "number") {
      const target = port(ctx, item, at);
      if (target) out.push({ target, protocol: "tcp" });
    } else if (typeof item === "string") {
      out.push(...shortPort(ctx, item, at));
    } else if (item && typeof item === "object" && !Array.isArray(item)) {
      const p = longPort(ctx, item as Record<string, unknown>, at);
      if (p) out.push(p);
    } else {
      ctx.invalid(at, `expected a port like "80:8080" or a map with target, got ${describe(item)}`);
    }
  });
  return out;
}

function port(ctx: Context, v: unknown, path: Path): number | undefined {
  return ctx.int(v, path, 1, 65535);
}

function shortPort(ctx: Context, text: string, path: Path): PortSpec[] {
  const bad = () => {
    ctx.invalid(path, `"${text}" is not a port mapping like "8080", "80:8080" or "127.0.0.1:80:8080/udp"`);
    return [];
  };
  const [spec = "", proto = "tcp", ...extra] = text.trim().split("/");
  if (extra.length > 0 || (proto !== "tcp" && proto !== "udp")) return bad();
  let hostIp: string | undefined;
  let rest = spec;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(spec);
  if (v6) {
    hostIp = v6[1];
    rest = v6[2]!;
  }
  const parts = rest.split(":");
  if (!v6 && parts.length === 3) hostIp = parts.shift();
  if (parts.length > 2 || parts.some((p) => p.includes("["))) return bad();
  const [first, second] = parts as [string, string | undefined];
  const targetText = second ?? first;
  const publishedText = second === undefined ? "" : first;
  const targets = range(targetText);
  const published = publishedText === "" ? null : range(publishedText);
  if (!targets || published === undefined) return bad();
  if (published && published.length !== targets.length) {
    ctx.invalid(path, `"${text}": the published and target ranges differ in length`);
    return [];
  }
  if (targets.length > MAX_RANGE) {
    ctx.invalid(path, `"${text}": at most ${MAX_RANGE} ports per entry`);
    return [];
  }
  return targets.map((target, i) => ({
    target,
    ...(published ? { published: published[i] } : {}),
    protocol: proto as Protocol,
    ...(hostIp ? { hostIp } : {}),
  }));
}

/** "8080" → [8080]; "8000-8002" → [8000, 8001, 8002]; undefined when malformed. */
function range(text: string): number[] | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || to < from) return undefined;
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function longPort(ctx: Context, map: Record<string, unknown>, path: Path): PortSpec | undefined {
  ctx.checkKeys(map, PORT_KEYS, path);
  const target = port(ctx, map.target, [...path, "target"]);
  if (map.target === undefined) ctx.invalid(path, "a port needs a target (the port inside the container)");
  const published =
    map.published === undefined ? undefined : port(ctx, map.published, [...path, "published"]);
  const protocol = ctx.oneOf(map.protocol, [...path, "protocol"], ["tcp", "udp"] as const) ?? "tcp";
  ctx.oneOf(map.mode, [...path, "mode"], ["host", "ingress"] as const);
  const hostIp = ctx.string(map.host_ip, [...path, "host_ip"]);
  if (!target) return undefined;
  return { target, ...(published ? { published } : {}), protocol, ...(hostIp ? { hostIp } : {}) };
}
