import { createHash } from "node:crypto";
import type { ServiceSpec, StackSpec } from "./model.ts";

/**
 * What deploying `next` over `current` would do, per service: create,
 * update (which fields, from what to what) or remove, and how many tasks
 * would start, stop or be replaced. Pure: the control plane passes the task
 * counts it knows; the CLI and the dashboard show the result before apply.
 */
export interface FieldChange {
  /** Dotted path into the service spec, e.g. "image", "environment.MODE", "deploy.limits.memoryBytes". */
  field: string;
  from?: unknown;
  to?: unknown;
  /** Whether this change replaces the service's running tasks. */
  restarts: boolean;
}

export interface ServicePlan {
  name: string;
  action: "create" | "update" | "remove" | "unchanged";
  changes: FieldChange[];
  replicas: { from: number; to: number };
  /** Tasks that would be replaced by new ones (rolling update). */
  restarts: number;
  /** Tasks that would start because of more replicas or a new service. */
  starts: number;
  /** Tasks that would stop because of fewer replicas or a removed service. */
  stops: number;
}

export interface StackPlan {
  stack: string;
  services: ServicePlan[];
  /** True when nothing would change. */
  empty: boolean;
}

export interface PlanOptions {
  /** Tasks each service runs now; by default the current spec's replicas. */
  tasks?: Record<string, number>;
  /** Hosts a global service would run on (its replica count); default 1. */
  globalHosts?: number;
}

/** Fields of a service that change its tasks' containers when they change; the rest of deploy: does not. */
const NO_RESTART = new Set([
  "deploy.replicas",
  "deploy.update",
  "deploy.rollback",
  "deploy.restart",
  "deploy.labels",
]);

export function planStack(current: StackSpec | null, next: StackSpec, options: PlanOptions = {}): StackPlan {
  const names = [...new Set([...Object.keys(current?.services ?? {}), ...Object.keys(next.services)])].sort();
  const services = names.map((name) =>
    planService(name, current?.services[name], next.services[name], options),
  );
  return { stack: next.name, services, empty: services.every((s) => s.action === "unchanged") };
}

function replicasOf(spec: ServiceSpec | undefined, options: PlanOptions): number {
  if (!spec) return 0;
  return spec.deploy.mode === "global" ? (options.globalHosts ?? 1) : spec.deploy.replicas;
}

function planService(
  name: string,
  before: ServiceSpec | undefined,
  after: ServiceSpec | undefined,
  options: PlanOptions,
): ServicePlan {
  const from = before ? (options.tasks?.[name] ?? replicasOf(before, options)) : 0;
  const to = replicasOf(after, options);
  if (!before || !after) {
    return {
      name,
      action: before ? "remove" : "create",
      changes: [],
      replicas: { from, to },
      restarts: 0,
      starts: to,
      stops: from,
    };
  }
  const changes = diffValues(before, after);
  const restarting = changes.some((c) => c.restarts);
  return {
    name,
    action: changes.length === 0 ? "unchanged" : "update",
    changes,
    replicas: { from, to },
    restarts: restarting ? Math.min(from, to) : 0,
    starts: Math.max(0, to - from),
    stops: Math.max(0, from - to),
  };
}

/** Leaf-level differences between two specs (maps compared by key, lists as wholes). */
export function diffValues(before: unknown, after: unknown, prefix = ""): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffValues(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  const restarts = ![...NO_RESTART].some((f) => prefix === f || prefix.startsWith(`${f}.`));
  return [
    {
      field: prefix,
      ...(before === undefined ? {} : { from: before }),
      ...(after === undefined ? {} : { to: after }),
      restarts,
    },
  ];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** JSON with object keys sorted: equal specs give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return "undefined";
  return JSON.stringify(value, (_, v) =>
    isPlainObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/**
 * A digest of what a service's tasks run (everything but replicas and the
 * update, rollback and restart policies): tasks whose template digest differs
 * from the service's are out of date and get replaced by a rolling update.
 */
export function templateDigest(service: ServiceSpec): string {
  const { replicas: _r, update: _u, rollback: _b, restart: _s, labels: _l, ...deploy } = service.deploy;
  const text = canonicalJson({ ...service, deploy });
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}
