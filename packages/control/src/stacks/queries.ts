import { type Db, schema } from "@berth/db";
import { BerthError } from "@berth/protocol";
import { planStack, type StackPlan, type StackSpec } from "@berth/spec";
import { and, asc, desc, eq, inArray, notInArray, sql } from "drizzle-orm";
import { ENDED } from "../orchestrator/types.ts";
import { findStack } from "./operations.ts";

/** Live tasks: wanted running and not ended. */
const LIVE = and(eq(schema.tasks.desired, "running"), notInArray(schema.tasks.observed, [...ENDED]));

export interface StackSummary {
  id: string;
  name: string;
  teamId: string;
  revision: number;
  services: number;
  /** Tasks running (observed) over tasks wanted, across the stack. */
  running: number;
  /** Tasks wanted that have a host. */
  placed: number;
  desired: number;
  updatedAt: Date;
}

export async function listStacks(db: Db, filter: { teamIds?: string[] } = {}): Promise<StackSummary[]> {
  const rows = await db.execute<{
    id: string;
    name: string;
    team_id: string;
    revision: number;
    updated_at: Date;
    services: string;
    running: string;
    placed: string;
    desired: string;
  }>(sql`
    select st.id, st.name, st.team_id, st.revision, st.updated_at,
      count(distinct s.id) as services,
      count(t.id) filter (where t.observed = 'running') as running,
      count(t.id) filter (where t.host_id is not null) as placed,
      count(t.id) as desired
    from stacks st
    left join services s on s.stack_id = st.id
    left join tasks t on t.service_id = s.id and t.desired = 'running'
      and t.observed <> all(${sql.param([...ENDED])}::text[])
    ${filter.teamIds ? sql`where st.team_id = any(${sql.param(filter.teamIds)}::text[])` : sql``}
    group by st.id
    order by st.name`);
  return rows.rows.map((r) => ({
    id: r.id,
    name: r.name,
    teamId: r.team_id,
    revision: r.revision,
    services: Number(r.services),
    running: Number(r.running),
    placed: Number(r.placed),
    desired: Number(r.desired),
    updatedAt: new Date(r.updated_at),
  }));
}

export interface ServiceSummary {
  id: string;
  name: string;
  image: string;
  mode: "replicated" | "global";
  replicas: number;
  running: number;
  generation: number;
  updateState: schema.UpdateState;
  updateMessage: string | null;
  ports: string[];
}

export interface TaskRow {
  id: string;
  service: string;
  slot: number;
  generation: number;
  hostId: string | null;
  hostName: string | null;
  desired: "running" | "shutdown";
  observed: schema.TaskObserved;
  reason: string | null;
  exitCode: number | null;
  containerId: string | null;
  createdAt: Date;
  updatedAt: Date;
  image: string;
}

/** A stack with its services (and their task counts). */
export async function getStack(db: Db, teamId: string, name: string) {
  const stack = await findStack(db, teamId, name);
  const services = await db
    .select()
    .from(schema.services)
    .where(eq(schema.services.stackId, stack.id))
    .orderBy(asc(schema.services.name));
  const counts = await db
    .select({ serviceId: schema.tasks.serviceId, running: sql<number>`count(*)::int` })
    .from(schema.tasks)
    .where(
      and(
        inArray(
          schema.tasks.serviceId,
          services.map((s) => s.id),
        ),
        eq(schema.tasks.desired, "running"),
        eq(schema.tasks.observed, "running"),
      ),
    )
    .groupBy(schema.tasks.serviceId);
  const summaries: ServiceSummary[] = services.map((s) => {
    const spec = s.spec as unknown as StackSpec["services"][string];
    return {
      id: s.id,
      name: s.name,
      image: spec.image,
      mode: spec.deploy.mode,
      replicas: spec.deploy.replicas,
      running: counts.find((c) => c.serviceId === s.id)?.running ?? 0,
      generation: s.generation,
      updateState: s.updateState,
      updateMessage: s.updateMessage,
      ports: spec.ports
        .filter((p) => p.published)
        .map((p) => `${p.hostIp ? `${p.hostIp}:` : ""}${p.published}->${p.target}/${p.protocol}`),
    };
  });
  return { ...stack, services: summaries };
}

/** Tasks of a stack (or one service of it), newest first within each slot; ended ones only when asked. */
export async function listStackTasks(
  db: Db,
  teamId: string,
  stackName: string,
  options: { service?: string; all?: boolean; limit?: number } = {},
): Promise<TaskRow[]> {
  const stack = await findStack(db, teamId, stackName);
  const t = schema.tasks;
  const s = schema.services;
  const rows = await db
    .select({
      id: t.id,
      service: s.name,
      slot: t.slot,
      generation: t.generation,
      hostId: t.hostId,
      hostName: schema.hosts.name,
      desired: t.desired,
      observed: t.observed,
      reason: t.reason,
      exitCode: t.exitCode,
      containerId: t.containerId,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
      spec: schema.taskTemplates.spec,
    })
    .from(t)
    .innerJoin(s, eq(s.id, t.serviceId))
    .innerJoin(schema.taskTemplates, eq(schema.taskTemplates.digest, t.digest))
    .leftJoin(schema.hosts, eq(schema.hosts.id, t.hostId))
    .where(
      and(
        eq(s.stackId, stack.id),
        options.service ? eq(s.name, options.service) : undefined,
        options.all ? undefined : LIVE,
      ),
    )
    .orderBy(asc(s.name), asc(t.slot), desc(t.createdAt))
    .limit(Math.min(options.limit ?? 1000, 10_000));
  if (options.service && rows.length === 0) {
    const [exists] = await db
      .select({ id: s.id })
      .from(s)
      .where(and(eq(s.stackId, stack.id), eq(s.name, options.service)));
    if (!exists) throw new BerthError("NotFound", `${stackName} has no service ${options.service}`);
  }
  return rows.map(({ spec, ...r }) => ({ ...r, image: String((spec as { image?: string }).image ?? "") }));
}

export interface RevisionSummary {
  n: number;
  kind: string;
  restoredFrom: number | null;
  authorName: string;
  createdAt: Date;
  current: boolean;
}

export async function stackHistory(db: Db, teamId: string, name: string): Promise<RevisionSummary[]> {
  const stack = await findStack(db, teamId, name);
  const r = schema.stackRevisions;
  const rows = await db
    .select({
      n: r.n,
      kind: r.kind,
      restoredFrom: r.restoredFrom,
      authorName: r.authorName,
      createdAt: r.createdAt,
    })
    .from(r)
    .where(eq(r.stackId, stack.id))
    .orderBy(desc(r.n));
  return rows.map((row) => ({ ...row, current: row.n === stack.revision }));
}

export async function getRevision(db: Db, teamId: string, name: string, n: number) {
  const stack = await findStack(db, teamId, name);
  const r = schema.stackRevisions;
  const [row] = await db
    .select()
    .from(r)
    .where(and(eq(r.stackId, stack.id), eq(r.n, n)));
  if (!row) throw new BerthError("NotFound", `${name} has no revision ${n} (it has 1–${stack.revision})`);
  return { ...row, spec: row.spec as unknown as StackSpec };
}

/** What changed from revision a to revision b: the field-level plan and both YAML texts. */
export async function diffRevisions(
  db: Db,
  teamId: string,
  name: string,
  a: number,
  b: number,
): Promise<{ plan: StackPlan; from: { n: number; yaml: string }; to: { n: number; yaml: string } }> {
  const [from, to] = await Promise.all([getRevision(db, teamId, name, a), getRevision(db, teamId, name, b)]);
  return {
    plan: planStack(from.spec, to.spec),
    from: { n: a, yaml: from.yaml },
    to: { n: b, yaml: to.yaml },
  };
}
