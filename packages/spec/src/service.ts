import type { Context, Path } from "./context.ts";
import { type LegacyResources, readDeploy } from "./deploy.ts";
import { parseEnvFile } from "./env-file.ts";
import { HEALTHCHECK_KEYS, SERVICE_KEYS } from "./keys.ts";
import type { HealthcheckSpec, Resources, RestartPolicy, ServiceSpec } from "./model.ts";
import { readMounts, readTmpfs } from "./mounts.ts";
import { readPorts } from "./ports.ts";
import { describe, parseBytes, parseCpus, parseDuration } from "./units.ts";
import { splitWords } from "./words.ts";

export const DEFAULT_STOP_GRACE_MS = 10_000;
/** Docker's healthcheck defaults. */
export const DEFAULT_HEALTHCHECK = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 };

/** A Docker image reference, loosely: registry/path:tag@digest, no spaces, no upper case in the path. */
const IMAGE =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+|\/[a-z0-9]+)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export function readService(
  ctx: Context,
  name: string,
  v: unknown,
  declared: Declared,
): ServiceSpec | undefined {
  const path = ["services", name];
  const map = ctx.map(v, path);
  if (!map) return undefined;
  ctx.checkKeys(map, SERVICE_KEYS, path);
  const image = ctx.string(map.image, [...path, "image"]);
  if (image === undefined) {
    ctx.invalid(
      path,
      map.build === undefined
        ? `service "${name}" needs an image`
        : `service "${name}" has build: but no image: Berth deploys images; build with \`berth build -t NAME\`, push, and set image: NAME`,
    );
  } else if (!IMAGE.test(image)) {
    ctx.invalid(
      [...path, "image"],
      `"${image}" is not an image reference like "nginx:1.27" or "registry:5000/team/app:1"`,
    );
  }
  const mounts = [
    ...readMounts(ctx, map.volumes, [...path, "volumes"]),
    ...readTmpfs(ctx, map.tmpfs, [...path, "tmpfs"]),
  ];
  mounts.forEach((m, i) => {
    if (m.type === "volume" && !declared.volumes.has(m.source)) {
      ctx.invalid(
        [...path, "volumes", i],
        `volume "${m.source}" is not declared under the top-level volumes:`,
      );
    }
  });
  const targets = new Set<string>();
  for (const m of mounts) {
    if (targets.has(m.target)) ctx.invalid([...path, "volumes"], `two mounts on ${m.target}`);
    targets.add(m.target);
  }
  readNetworks(ctx, map.networks, [...path, "networks"], declared.networks);
  for (const [i, e] of (ctx.list(map.expose, [...path, "expose"]) ?? []).entries()) {
    if (!/^\d{1,5}(-\d{1,5})?(\/(tcp|udp))?$/.test(String(e)))
      ctx.invalid([...path, "expose", i], `"${e}" is not a port`);
  }
  const health = readHealthcheck(ctx, map.healthcheck, [...path, "healthcheck"]);
  const legacy = readLegacy(ctx, map, path);
  const deploy = readDeploy(ctx, map.deploy, [...path, "deploy"], legacy);
  const grace = map.stop_grace_period === undefined ? undefined : parseDuration(map.stop_grace_period);
  if (grace && !grace.ok) ctx.invalid([...path, "stop_grace_period"], grace.message);
  const shm = map.shm_size === undefined ? undefined : parseBytes(map.shm_size);
  if (shm && !shm.ok) ctx.invalid([...path, "shm_size"], shm.message);
  const command = readCommand(ctx, map.command, [...path, "command"]);
  const entrypoint = readCommand(ctx, map.entrypoint, [...path, "entrypoint"]);
  const user = ctx.string(map.user, [...path, "user"]);
  const workingDir = ctx.string(map.working_dir, [...path, "working_dir"]);
  const hostname = ctx.string(map.hostname, [...path, "hostname"]);
  const stopSignal = ctx.string(map.stop_signal, [...path, "stop_signal"]);
  const environment = readEnvironment(ctx, map, path);
  const ports = readPorts(ctx, map.ports, [...path, "ports"]);
  const published = new Set<string>();
  for (const p of ports.filter((p) => p.published)) {
    const key = `${p.hostIp ?? "*"}:${p.published}/${p.protocol}`;
    if (published.has(key))
      ctx.invalid([...path, "ports"], `host port ${p.published}/${p.protocol} is published twice`);
    published.add(key);
  }
  const labels = (ctx.stringMap(map.labels, [...path, "labels"], "a label") ?? {}) as Record<string, string>;
  const readOnly = ctx.bool(map.read_only, [...path, "read_only"]) ?? false;
  const tty = ctx.bool(map.tty, [...path, "tty"]) ?? false;
  if (image === undefined) return undefined;
  return {
    image,
    ...(command ? { command } : {}),
    ...(entrypoint ? { entrypoint } : {}),
    environment,
    ports,
    mounts,
    labels,
    ...(health.check ? { healthcheck: health.check } : {}),
    healthcheckDisabled: health.disabled,
    stopGracePeriodMs: grace?.ok ? grace.value : DEFAULT_STOP_GRACE_MS,
    ...(stopSignal ? { stopSignal } : {}),
    ...(user ? { user } : {}),
    ...(workingDir ? { workingDir } : {}),
    ...(hostname ? { hostname } : {}),
    readOnly,
    tty,
    ...(shm?.ok ? { shmSizeBytes: shm.value } : {}),
    deploy,
  };
}

export interface Declared {
  volumes: Set<string>;
  networks: Set<string>;
}

function readCommand(ctx: Context, v: unknown, path: Path): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") {
    const words = splitWords(v);
    return words ?? ctx.invalid(path, `unterminated quote in "${v}"`);
  }
  const list = ctx.list(v, path);
  if (!list) return undefined;
  const words = list.map((w, i) => ctx.string(w, [...path, i]));
  return words.every((w) => w !== undefined) ? (words as string[]) : undefined;
}

function readEnvironment(ctx: Context, map: Record<string, unknown>, path: Path): Record<string, string> {
  const env: Record<string, string> = {};
  const files =
    map.env_file === undefined ? [] : typeof map.env_file === "string" ? [map.env_file] : map.env_file;
  (ctx.list(files, [...path, "env_file"]) ?? []).forEach((item, i) => {
    const at = typeof map.env_file === "string" ? [...path, "env_file"] : [...path, "env_file", i];
    const entry = typeof item === "string" ? { path: item, required: true } : ctx.map(item, at);
    const file = ctx.string(entry?.path, at);
    if (!entry || file === undefined) return;
    const required = entry.required === undefined ? true : ctx.bool(entry.required, [...at, "required"]);
    const text = ctx.readFile?.(file);
    if (text === undefined) {
      if (required)
        ctx.invalid(
          at,
          `env file "${file}" cannot be read${ctx.readFile ? "" : " here: deploy the stack with the CLI from its directory, or use environment:"}`,
        );
      return;
    }
    const parsed = parseEnvFile(text, ctx.variables);
    for (const e of parsed.errors) ctx.invalid(at, `${file}:${e.line}: ${e.message}`);
    Object.assign(env, parsed.values);
  });
  const given = ctx.stringMap(map.environment, [...path, "environment"], "an environment variable") ?? {};
  for (const [key, value] of Object.entries(given)) {
    const v = value ?? ctx.variables[key];
    if (v === undefined)
      ctx.warn([...path, "environment", key], `${key} has no value and is not set; left out`);
    else env[key] = v;
  }
  return env;
}

function readHealthcheck(
  ctx: Context,
  v: unknown,
  path: Path,
): { check?: HealthcheckSpec; disabled: boolean } {
  const map = ctx.map(v, path);
  if (!map) return { disabled: false };
  ctx.checkKeys(map, HEALTHCHECK_KEYS, path);
  if (ctx.bool(map.disable, [...path, "disable"])) return { disabled: true };
  let test: string[] | undefined;
  if (typeof map.test === "string") test = ["CMD-SHELL", map.test];
  else if (Array.isArray(map.test) && map.test.every((w) => typeof w === "string"))
    test = map.test as string[];
  else if (map.test !== undefined)
    ctx.invalid([...path, "test"], `expected a command, got ${describe(map.test)}`);
  if (test?.[0] === "NONE") return { disabled: true };
  if (test && !["CMD", "CMD-SHELL"].includes(test[0] ?? "")) {
    ctx.invalid([...path, "test"], `a healthcheck test starts with CMD, CMD-SHELL or NONE, got "${test[0]}"`);
    return { disabled: false };
  }
  if (!test || test.length < 2) {
    ctx.invalid(path, 'a healthcheck needs a test, e.g. test: ["CMD", "wget", "-qO-", "localhost/health"]');
    return { disabled: false };
  }
  const d = DEFAULT_HEALTHCHECK;
  const dur = (key: string, fallback: number) => {
    if (map[key] === undefined) return fallback;
    const r = parseDuration(map[key]);
    return r.ok ? r.value : (ctx.invalid([...path, key], r.message) ?? fallback);
  };
  return {
    check: {
      test,
      intervalMs: dur("interval", d.intervalMs),
      timeoutMs: dur("timeout", d.timeoutMs),
      retries: ctx.int(map.retries, [...path, "retries"], 1, 1000) ?? d.retries,
      startPeriodMs: dur("start_period", d.startPeriodMs),
    },
    disabled: false,
  };
}

function readNetworks(ctx: Context, v: unknown, path: Path, declared: Set<string>): void {
  if (v === undefined) return;
  const names = Array.isArray(v)
    ? v.map((n, i) => ctx.string(n, [...path, i]))
    : Object.keys(ctx.map(v, path) ?? {});
  for (const name of names) {
    if (name !== undefined && name !== "default" && !declared.has(name)) {
      ctx.invalid(path, `network "${name}" is not declared under the top-level networks:`);
    }
  }
}

/** Compose's service-level mem_limit, cpus, pids_limit, mem_reservation and restart. */
function readLegacy(ctx: Context, map: Record<string, unknown>, path: Path): LegacyResources {
  const limits: Resources = {};
  const reservations: Resources = {};
  const put = (target: Resources, key: keyof Resources, r: ReturnType<typeof parseBytes>, at: string) => {
    if (r.ok) target[key] = r.value;
    else ctx.invalid([...path, at], r.message);
  };
  if (map.mem_limit !== undefined) put(limits, "memoryBytes", parseBytes(map.mem_limit), "mem_limit");
  if (map.cpus !== undefined) put(limits, "cpus", parseCpus(map.cpus), "cpus");
  if (map.mem_reservation !== undefined) {
    put(reservations, "memoryBytes", parseBytes(map.mem_reservation), "mem_reservation");
  }
  const pids = ctx.int(map.pids_limit, [...path, "pids_limit"], 1, 4_194_304);
  if (pids !== undefined) limits.pids = pids;
  return {
    limits,
    reservations,
    ...(map.restart === undefined ? {} : { restart: readRestart(ctx, map.restart, [...path, "restart"]) }),
  };
}

/** Compose's `restart:` as a Swarm restart policy. */
function readRestart(ctx: Context, v: unknown, path: Path): RestartPolicy | undefined {
  const text = ctx.string(v, path);
  const m = text === undefined ? null : /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(text);
  if (!m || (m[2] !== undefined && m[1] !== "on-failure")) {
    return ctx.invalid(path, `expected no, always, unless-stopped or on-failure[:N], got ${describe(v)}`);
  }
  const condition = m[1] === "no" ? "none" : m[1] === "on-failure" ? "on-failure" : "any";
  return { condition, delayMs: 5000, ...(m[2] ? { maxAttempts: Number(m[2]) } : {}) };
}
