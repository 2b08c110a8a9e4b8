import { Context } from "./context.ts";
import { SpecError, type SpecIssue } from "./errors.ts";
import { interpolate } from "./interpolate.ts";
import { NETWORK_KEYS, TOP_LEVEL_KEYS, VOLUME_KEYS } from "./keys.ts";
import type { ServiceSpec, SpecWarning, StackSpec, VolumeSpec } from "./model.ts";
import { type Declared, readService } from "./service.ts";
import { DEFAULT_LIMITS, loadYaml, type YamlLimits } from "./yaml.ts";

export interface ParseOptions {
  /** The stack's name when the file has no `name:` (the CLI passes --name or the directory's name). */
  name?: string;
  /** Values for ${VAR} interpolation and bare environment keys (Compose: the shell and .env). */
  variables?: Record<string, string | undefined>;
  /** Reads an env_file by the path written in the file; undefined when it cannot. */
  readFile?: (path: string) => string | undefined;
  limits?: Partial<YamlLimits>;
}

export type ParseResult =
  | { ok: true; spec: StackSpec; warnings: SpecWarning[] }
  | { ok: false; issues: SpecIssue[]; warnings: SpecWarning[] };

export const STACK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
export const MAX_SERVICES = 200;

/**
 * Parse and validate a stack file (Compose with Swarm's `deploy:`) into a
 * normalised StackSpec. Never throws for bad input: every problem comes back
 * as an issue with its line and column, all of them in one pass.
 */
export function parseStack(source: string, options: ParseOptions = {}): ParseResult {
  const loaded = loadYaml(source, { ...DEFAULT_LIMITS, ...options.limits });
  if (!loaded.ok) return { ok: false, issues: loaded.issues, warnings: [] };
  const variables = options.variables ?? {};
  const interpolated = interpolate(loaded.yaml.value, variables);
  const ctx = new Context(loaded.yaml, variables, options.readFile);
  for (const e of interpolated.errors) ctx.invalid(e.path, e.message);
  for (const w of interpolated.warnings) ctx.warn(w.path, w.message);

  const root = ctx.map(interpolated.value, []);
  if (!root) return result(ctx);
  if (Object.keys(root).length === 0) {
    ctx.invalid([], "the file is empty; a stack file needs services:");
    return result(ctx);
  }
  ctx.checkKeys(root, TOP_LEVEL_KEYS, []);

  const name = readName(ctx, root.name, options.name);
  const volumes = readVolumes(ctx, root.volumes);
  const networks = readNetworks(ctx, root.networks);
  const declared: Declared = { volumes: new Set(Object.keys(volumes)), networks };
  const servicesMap = ctx.map(root.services, ["services"]);
  if (root.services === undefined) ctx.invalid([], "a stack file needs services:");
  const names = Object.keys(servicesMap ?? {}).sort();
  if (servicesMap && names.length === 0) ctx.invalid(["services"], "services: is empty");
  if (names.length > MAX_SERVICES)
    ctx.issue("limit", ["services"], `at most ${MAX_SERVICES} services per stack`);
  const services: Record<string, ServiceSpec> = {};
  for (const service of names) {
    if (!SERVICE_NAME.test(service)) {
      ctx.invalid(
        ["services", service],
        `"${service}" is not a valid service name (letters, digits, _ . -, at most 63)`,
      );
      continue;
    }
    const spec = readService(ctx, service, servicesMap?.[service], declared);
    if (spec) services[service] = spec;
  }
  if (ctx.issues.length > 0 || !name) return result(ctx);
  return { ok: true, spec: { name, services, volumes }, warnings: inFileOrder(ctx.warnings) };
}

/** parseStack that throws a SpecError listing every issue. */
export function parseStackOrThrow(
  source: string,
  options: ParseOptions & { fileName?: string } = {},
): StackSpec {
  const r = parseStack(source, options);
  if (!r.ok) throw new SpecError(r.issues, options.fileName);
  return r.spec;
}

function result(ctx: Context): ParseResult {
  return { ok: false, issues: inFileOrder(ctx.issues), warnings: inFileOrder(ctx.warnings) };
}

/** Problems in the order they appear in the file (those without a position first). */
function inFileOrder<T extends { line?: number; column?: number }>(items: T[]): T[] {
  return [...items].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function readName(ctx: Context, v: unknown, fallback: string | undefined): string | undefined {
  const name = ctx.string(v, ["name"]) ?? fallback;
  if (name === undefined) return ctx.invalid([], "the stack has no name: add name: to the file or pass one");
  if (!STACK_NAME.test(name)) {
    return ctx.invalid(
      v === undefined ? [] : ["name"],
      `"${name}" is not a valid stack name (lower-case letters, digits, _ and -, starting with a letter or digit, at most 63)`,
    );
  }
  return name;
}

function readVolumes(ctx: Context, v: unknown): Record<string, VolumeSpec> {
  const out: Record<string, VolumeSpec> = {};
  for (const [name, item] of Object.entries(ctx.map(v, ["volumes"]) ?? {})) {
    const path = ["volumes", name];
    const map = ctx.map(item, path) ?? {};
    ctx.checkKeys(map, VOLUME_KEYS, path);
    if (map.driver !== undefined && map.driver !== "local") {
      ctx.issue(
        "unsupported",
        [...path, "driver"],
        `volume driver "${String(map.driver)}" is not supported; use local`,
      );
    }
    out[name] = {
      driver: "local",
      labels: (ctx.stringMap(map.labels, [...path, "labels"], "a label") ?? {}) as Record<string, string>,
    };
  }
  return out;
}

function readNetworks(ctx: Context, v: unknown): Set<string> {
  const names = new Set<string>();
  for (const [name, item] of Object.entries(ctx.map(v, ["networks"]) ?? {})) {
    const map = ctx.map(item, ["networks", name]) ?? {};
    ctx.checkKeys(map, NETWORK_KEYS, ["networks", name]);
    names.add(name);
    if (name !== "default") {
      ctx.warn(
        ["networks", name],
        `network "${name}": Berth connects every service of a stack through the stack's one network; it is not a separate network`,
        true,
      );
    }
  }
  return names;
}
