import type { Context, Path } from "./context.ts";
import { MOUNT_KEYS } from "./keys.ts";
import type { MountSpec } from "./model.ts";
import { describe, parseBytes } from "./units.ts";

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * `volumes:` of a service in both syntaxes. Short: "data:/var/lib/x[:ro]"
 * (named volume) or "/host/path:/x[:ro]" (bind). Long: { type, source,
 * target, read_only, tmpfs: { size } }. Relative bind paths and anonymous
 * volumes are refused: on a fleet, neither names one thing.
 */
export function readMounts(ctx: Context, v: unknown, path: Path): MountSpec[] {
  const list = ctx.list(v, path) ?? [];
  const out: MountSpec[] = [];
  list.forEach((item, i) => {
    const at = [...path, i];
    const mount =
      typeof item === "string"
        ? shortMount(ctx, item, at)
        : item && typeof item === "object" && !Array.isArray(item)
          ? longMount(ctx, item as Record<string, unknown>, at)
          : ctx.invalid(at, `expected a volume like "data:/var/lib/data" or a map, got ${describe(item)}`);
    if (mount) out.push(mount);
  });
  return out;
}

/** `tmpfs:` of a service: "/run" or "/run:size=64m", or a list of those. */
export function readTmpfs(ctx: Context, v: unknown, path: Path): MountSpec[] {
  if (v === undefined) return [];
  const items = typeof v === "string" ? [v] : (ctx.list(v, path) ?? []);
  const out: MountSpec[] = [];
  items.forEach((item, i) => {
    const at = typeof v === "string" ? path : [...path, i];
    const text = ctx.string(item, at);
    if (text === undefined) return;
    const [target = "", options = ""] = text.split(":", 2);
    if (!target.startsWith("/")) {
      ctx.invalid(at, `tmpfs needs an absolute path, got "${text}"`);
      return;
    }
    const size = /(?:^|,)size=([^,]+)/.exec(options)?.[1];
    const bytes = size === undefined ? undefined : parseBytes(size);
    if (bytes && !bytes.ok) {
      ctx.invalid(at, bytes.message);
      return;
    }
    out.push({ type: "tmpfs", target, ...(bytes?.ok ? { sizeBytes: bytes.value } : {}) });
  });
  return out;
}

function checkTarget(ctx: Context, target: string | undefined, path: Path): target is string {
  if (!target?.startsWith("/")) {
    ctx.invalid(path, `the path in the container must be absolute, got ${describe(target)}`);
    return false;
  }
  return true;
}

function shortMount(ctx: Context, text: string, path: Path): MountSpec | undefined {
  const parts = text.split(":");
  if (parts.length === 1) {
    return ctx.issue(
      "unsupported",
      path,
      `anonymous volume "${text}" is not supported: name it ("data:${text}")`,
    );
  }
  if (parts.length > 3) return ctx.invalid(path, `"${text}" is not SOURCE:TARGET[:MODE]`);
  const [source = "", target, mode = "rw"] = parts;
  const flags = mode.split(",");
  const unknown = flags.find(
    (f) => !["ro", "rw", "z", "Z", "cached", "delegated", "consistent", "nocopy"].includes(f),
  );
  if (unknown) return ctx.invalid(path, `unknown volume option "${unknown}" in "${text}" (use ro or rw)`);
  if (!checkTarget(ctx, target, path)) return undefined;
  const readOnly = flags.includes("ro");
  return sourceMount(ctx, source, target, readOnly, path);
}

function sourceMount(
  ctx: Context,
  source: string,
  target: string,
  readOnly: boolean,
  path: Path,
): MountSpec | undefined {
  if (source.startsWith("/")) return { type: "bind", source, target, readOnly };
  if (source.startsWith(".") || source.startsWith("~")) {
    return ctx.issue(
      "unsupported",
      path,
      `relative bind mount "${source}" is not supported: a stack runs on many hosts; use an absolute host path or a named volume`,
    );
  }
  if (!VOLUME_NAME.test(source)) return ctx.invalid(path, `"${source}" is not a valid volume name`);
  return { type: "volume", source, target, readOnly };
}

function longMount(ctx: Context, map: Record<string, unknown>, path: Path): MountSpec | undefined {
  ctx.checkKeys(map, MOUNT_KEYS, path);
  const type = ctx.oneOf(map.type, [...path, "type"], ["volume", "bind", "tmpfs"] as const);
  if (map.type === undefined) return ctx.invalid(path, "a volume needs a type: volume, bind or tmpfs");
  const target = ctx.string(map.target, [...path, "target"]);
  if (!type || !checkTarget(ctx, target, [...path, "target"])) return undefined;
  if (type === "tmpfs") {
    const tmpfs = ctx.map(map.tmpfs, [...path, "tmpfs"]) ?? {};
    const size = tmpfs.size === undefined ? undefined : parseBytes(tmpfs.size);
    if (size && !size.ok) return ctx.invalid([...path, "tmpfs", "size"], size.message);
    return { type, target, ...(size?.ok ? { sizeBytes: size.value } : {}) };
  }
  const source = ctx.string(map.source, [...path, "source"]);
  if (!source) {
    return type === "volume"
      ? ctx.issue("unsupported", path, "anonymous volumes are not supported: give the volume a source name")
      : ctx.invalid(path, "a bind mount needs a source (an absolute path on the host)");
  }
  const readOnly = ctx.bool(map.read_only, [...path, "read_only"]) ?? false;
  const mount = sourceMount(ctx, source, target, readOnly, [...path, "source"]);
  if (mount && mount.type !== type) {
    return ctx.invalid([...path, "source"], `"${source}" is not a valid source for a ${type} mount`);
  }
  return mount;
}
