import type { Context, Path } from "./context.ts";
import {
  DEPLOY_KEYS,
  LIMITS_KEYS,
  PLACEMENT_KEYS,
  RESERVATIONS_KEYS,
  RESOURCES_KEYS,
  RESTART_POLICY_KEYS,
  UPDATE_KEYS,
} from "./keys.ts";
import type { Constraint, DeploySpec, Resources, RestartPolicy, UpdatePolicy } from "./model.ts";
import { describe, parseBytes, parseCpus, parseDuration } from "./units.ts";

export const MAX_REPLICAS = 10_000;

/** Swarm's defaults for update_config and rollback_config. */
export const DEFAULT_UPDATE: UpdatePolicy = {
  parallelism: 1,
  delayMs: 0,
  failureAction: "pause",
  monitorMs: 5000,
  maxFailureRatio: 0,
  order: "stop-first",
};

export const DEFAULT_RESTART: RestartPolicy = { condition: "any", delayMs: 5000 };

/** Resource settings given outside `deploy:` (Compose's mem_limit, cpus, …), to merge in. */
export interface LegacyResources {
  limits: Resources;
  reservations: Resources;
  restart?: RestartPolicy;
}

export function readDeploy(ctx: Context, v: unknown, path: Path, legacy: LegacyResources): DeploySpec {
  const map = ctx.map(v, path) ?? {};
  ctx.checkKeys(map, DEPLOY_KEYS, path);
  const mode = ctx.oneOf(map.mode, [...path, "mode"], ["replicated", "global"] as const) ?? "replicated";
  if (mode === "global" && map.replicas !== undefined) {
    ctx.invalid(
      [...path, "replicas"],
      "replicas cannot be set with mode: global (one task runs on every host)",
    );
  }
  const replicas = ctx.int(map.replicas, [...path, "replicas"], 0, MAX_REPLICAS) ?? 1;
  const resources = ctx.map(map.resources, [...path, "resources"]) ?? {};
  ctx.checkKeys(resources, RESOURCES_KEYS, [...path, "resources"]);
  const limits = mergeResources(
    ctx,
    readResources(ctx, resources.limits, [...path, "resources", "limits"], true),
    legacy.limits,
    [...path, "resources", "limits"],
  );
  const reservations = mergeResources(
    ctx,
    readResources(ctx, resources.reservations, [...path, "resources", "reservations"], false),
    legacy.reservations,
    [...path, "resources", "reservations"],
  );
  for (const key of ["cpus", "memoryBytes"] as const) {
    const limit = limits[key];
    const reserved = reservations[key];
    if (limit !== undefined && reserved !== undefined && reserved > limit) {
      ctx.invalid([...path, "resources", "reservations"], `the reservation of ${key} is above its limit`);
    }
  }
  if (legacy.restart && map.restart_policy !== undefined) {
    ctx.invalid([...path, "restart_policy"], "set either restart or deploy.restart_policy, not both");
  }
  return {
    mode,
    replicas: mode === "global" ? 0 : replicas,
    limits,
    reservations,
    placement: readPlacement(ctx, map.placement, [...path, "placement"]),
    update: readUpdate(ctx, map.update_config, [...path, "update_config"]),
    rollback: readUpdate(ctx, map.rollback_config, [...path, "rollback_config"]),
    restart: legacy.restart ?? readRestartPolicy(ctx, map.restart_policy, [...path, "restart_policy"]),
    labels: (ctx.stringMap(map.labels, [...path, "labels"], "a label") ?? {}) as Record<string, string>,
  };
}

function readResources(ctx: Context, v: unknown, path: Path, isLimit: boolean): Resources {
  const map = ctx.map(v, path) ?? {};
  ctx.checkKeys(map, isLimit ? LIMITS_KEYS : RESERVATIONS_KEYS, path);
  const out: Resources = {};
  if (map.cpus !== undefined) {
    const cpus = parseCpus(map.cpus);
    if (cpus.ok) out.cpus = cpus.value;
    else ctx.invalid([...path, "cpus"], cpus.message);
  }
  if (map.memory !== undefined) {
    const memory = parseBytes(map.memory);
    if (memory.ok) out.memoryBytes = memory.value;
    else ctx.invalid([...path, "memory"], memory.message);
  }
  const pids = ctx.int(map.pids, [...path, "pids"], 1, 4_194_304);
  if (pids !== undefined) out.pids = pids;
  return out;
}

function mergeResources(ctx: Context, deploy: Resources, legacy: Resources, path: Path): Resources {
  for (const key of Object.keys(legacy) as (keyof Resources)[]) {
    if (deploy[key] !== undefined && deploy[key] !== legacy[key]) {
      ctx.invalid(path, `${key} is set both here and outside deploy: with different values`);
    }
  }
  return { ...legacy, ...deploy };
}

const CONSTRAINT =
  /^\s*(node\.(?:id|hostname|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.-]+))\s*(==|!=)\s*(\S(?:.*\S)?)\s*$/;

function readPlacement(ctx: Context, v: unknown, path: Path): DeploySpec["placement"] {
  const map = ctx.map(v, path) ?? {};
  ctx.checkKeys(map, PLACEMENT_KEYS, path);
  const constraints: Constraint[] = [];
  (ctx.list(map.constraints, [...path, "constraints"]) ?? []).forEach((item, i) => {
    const at = [...path, "constraints", i];
    const text = ctx.string(item, at);
    if (text === undefined) return;
    const m = CONSTRAINT.exec(text);
    if (!m) {
      ctx.invalid(
        at,
        `"${text}" is not a constraint like "node.labels.zone == eu-1" (fields: node.id, node.hostname, node.platform.os, node.platform.arch, node.labels.<key>; operators == and !=)`,
      );
      return;
    }
    constraints.push({ field: m[1]!, op: m[2] as "==" | "!=", value: m[3]! });
  });
  const spread: string[] = [];
  (ctx.list(map.preferences, [...path, "preferences"]) ?? []).forEach((item, i) => {
    const at = [...path, "preferences", i];
    const pref = ctx.map(item, at);
    const keys = Object.keys(pref ?? {});
    const target = ctx.string(pref?.spread, [...at, "spread"]);
    if (keys.length !== 1 || !target || !/^node\.(labels\.[A-Za-z0-9_.-]+|hostname|id)$/.test(target)) {
      ctx.invalid(at, `expected { spread: node.labels.<key> }, got ${describe(item)}`);
      return;
    }
    spread.push(target);
  });
  const max = ctx.int(map.max_replicas_per_node, [...path, "max_replicas_per_node"], 0, MAX_REPLICAS);
  return { constraints, spread, ...(max ? { maxReplicasPerNode: max } : {}) };
}

function duration(ctx: Context, v: unknown, path: Path): number | undefined {
  if (v === undefined) return undefined;
  const d = parseDuration(v);
  return d.ok ? d.value : ctx.invalid(path, d.message);
}

function readUpdate(ctx: Context, v: unknown, path: Path): UpdatePolicy {
  const map = ctx.map(v, path) ?? {};
  ctx.checkKeys(map, UPDATE_KEYS, path);
  const d = DEFAULT_UPDATE;
  return {
    parallelism: ctx.int(map.parallelism, [...path, "parallelism"], 0, MAX_REPLICAS) ?? d.parallelism,
    delayMs: duration(ctx, map.delay, [...path, "delay"]) ?? d.delayMs,
    failureAction:
      ctx.oneOf(map.failure_action, [...path, "failure_action"], [
        "pause",
        "continue",
        "rollback",
      ] as const) ?? d.failureAction,
    monitorMs: duration(ctx, map.monitor, [...path, "monitor"]) ?? d.monitorMs,
    maxFailureRatio:
      ctx.number(map.max_failure_ratio, [...path, "max_failure_ratio"], 0, 1) ?? d.maxFailureRatio,
    order: ctx.oneOf(map.order, [...path, "order"], ["stop-first", "start-first"] as const) ?? d.order,
  };
}

export function readRestartPolicy(ctx: Context, v: unknown, path: Path): RestartPolicy {
  const map = ctx.map(v, path) ?? {};
  ctx.checkKeys(map, RESTART_POLICY_KEYS, path);
  const maxAttempts = ctx.int(map.max_attempts, [...path, "max_attempts"], 0, 1_000_000);
  const windowMs = duration(ctx, map.window, [...path, "window"]);
  return {
    condition:
      ctx.oneOf(map.condition, [...path, "condition"], ["none", "on-failure", "any"] as const) ??
      DEFAULT_RESTART.condition,
    delayMs: duration(ctx, map.delay, [...path, "delay"]) ?? DEFAULT_RESTART.delayMs,
    ...(maxAttempts ? { maxAttempts } : {}),
    ...(windowMs ? { windowMs } : {}),
  };
}
