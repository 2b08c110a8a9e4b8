import { type Db, schema } from "@berth/db";
import { BerthError } from "@berth/protocol";
import {
  formatIssues,
  type ParseOptions,
  parseStack,
  planStack,
  SpecError,
  type SpecWarning,
  type StackPlan,
  type StackSpec,
} from "@berth/spec";
import { and, eq, sql } from "drizzle-orm";
import { isMap, isScalar, parseDocument } from "yaml";
import { type Actor, recordAudit, recordEvent } from "../events.ts";
import type { ChangeFeed } from "../feed.ts";
import { type Applied, applyRevision, bumpHostTaskSets, serviceSpecOf } from "./apply.ts";

export interface StackDeps {
  db: Db;
  feed?: ChangeFeed;
}

export interface StackFileInput extends Pick<ParseOptions, "variables" | "readFile"> {
  teamId: string;
  yaml: string;
  /** The stack's name when the file has none. */
  name?: string;
  /** For error messages: the file's name as the user knows it. */
  fileName?: string;
}

/** Parse a stack file, or throw InvalidArgument listing every issue with its line and column. */
export function parseStackFile(input: StackFileInput): { spec: StackSpec; warnings: SpecWarning[] } {
  const r = parseStack(input.yaml, {
    ...(input.name ? { name: input.name } : {}),
    ...(input.variables ? { variables: input.variables } : {}),
    ...(input.readFile ? { readFile: input.readFile } : {}),
  });
  if (!r.ok) {
    throw new BerthError("InvalidArgument", formatIssues(r.issues, input.fileName ?? "stack file"), {
      cause: new SpecError(r.issues, input.fileName),
    });
  }
  return { spec: r.spec, warnings: r.warnings };
}

/** What deploying this file would change, per service, against what runs now. */
export async function planDeploy(
  db: Db,
  input: StackFileInput,
): Promise<{ plan: StackPlan; warnings: SpecWarning[]; revision: number }> {
  const { spec, warnings } = parseStackFile(input);
  const current = await currentSpec(db, input.teamId, spec.name);
  return {
    plan: planStack(current?.spec ?? null, spec, { tasks: current?.tasks ?? {} }),
    warnings,
    revision: current?.revision ?? 0,
  };
}

export interface Deployed extends Applied {
  plan: StackPlan;
  warnings: SpecWarning[];
}

/** Store the file as a new revision and make the services match it. */
export async function deployStack(deps: StackDeps, actor: Actor, input: StackFileInput): Promise<Deployed> {
  const { spec, warnings } = parseStackFile(input);
  const current = await currentSpec(deps.db, input.teamId, spec.name);
  const plan = planStack(current?.spec ?? null, spec, { tasks: current?.tasks ?? {} });
  const applied = await applyRevision(deps.db, actor, {
    teamId: input.teamId,
    spec,
    yaml: input.yaml,
    kind: "deploy",
  });
  await notify(deps, applied);
  return { ...applied, plan, warnings };
}

/**
 * Restore an earlier revision of the whole stack — every service's image,
 * config and environment together — as a new revision. Without `to`, the
 * revision before the current one.
 */
export async function rollbackStack(
  deps: StackDeps,
  actor: Actor,
  input: { teamId: string; name: string; to?: number },
): Promise<Deployed> {
  const stack = await findStack(deps.db, input.teamId, input.name);
  if (stack.revision <= 1) {
    throw new BerthError(
      "FailedPrecondition",
      `${input.name} has only one revision; there is nothing to roll back to`,
    );
  }
  const to = input.to ?? stack.revision - 1;
  if (to === stack.revision)
    throw new BerthError("InvalidArgument", `revision ${to} is the current revision`);
  if (!Number.isInteger(to) || to < 1 || to > stack.revision) {
    throw new BerthError(
      "InvalidArgument",
      `revision ${to} does not exist; ${input.name} has revisions 1–${stack.revision}`,
    );
  }
  const [revision] = await deps.db
    .select()
    .from(schema.stackRevisions)
    .where(and(eq(schema.stackRevisions.stackId, stack.id), eq(schema.stackRevisions.n, to)));
  if (!revision) throw new BerthError("NotFound", `revision ${to} of ${input.name} not found`);
  const spec = revision.spec as unknown as StackSpec;
  const current = await currentSpec(deps.db, input.teamId, input.name);
  const plan = planStack(current?.spec ?? null, spec, { tasks: current?.tasks ?? {} });
  const applied = await applyRevision(deps.db, actor, {
    teamId: input.teamId,
    spec,
    yaml: revision.yaml,
    kind: "rollback",
    restoredFrom: to,
  });
  await notify(deps, applied);
  return { ...applied, plan, warnings: [] };
}

/** Scale one service: a new revision whose YAML differs only in that service's replicas. */
export async function scaleService(
  deps: StackDeps,
  actor: Actor,
  input: { teamId: string; stack: string; service: string; replicas: number },
): Promise<Deployed> {
  const stack = await findStack(deps.db, input.teamId, input.stack);
  const [revision] = await deps.db
    .select()
    .from(schema.stackRevisions)
    .where(and(eq(schema.stackRevisions.stackId, stack.id), eq(schema.stackRevisions.n, stack.revision)));
  if (!revision) throw new BerthError("NotFound", `${input.stack} has no revision yet`);
  const spec = revision.spec as unknown as StackSpec;
  const service = spec.services[input.service];
  if (!service) {
    throw new BerthError(
      "NotFound",
      `${input.stack} has no service ${input.service} (it has ${Object.keys(spec.services).join(", ")})`,
    );
  }
  if (service.deploy.mode === "global") {
    throw new BerthError(
      "FailedPrecondition",
      `${input.service} is global: it runs one task per host and cannot be scaled`,
    );
  }
  const yaml = withReplicas(revision.yaml, input.service, input.replicas);
  // The stored spec with the new count — not the YAML parsed again: its ${VAR}s and env_files were
  // resolved from the deployer's shell and files, which are not here.
  // The spec the service runs now: after an automatic rollback that is not the revision's (which still
  // holds the failed update); scaling must not start that update again. The revision's YAML then shows
  // what was deployed, its spec what runs.
  const [running] = await deps.db
    .select({ spec: schema.services.spec })
    .from(schema.services)
    .where(and(eq(schema.services.stackId, stack.id), eq(schema.services.name, input.service)));
  const base = running ? serviceSpecOf(running.spec) : service;
  const scaled: StackSpec = {
    ...spec,
    services: {
      ...spec.services,
      [input.service]: { ...base, deploy: { ...base.deploy, replicas: input.replicas } },
    },
  };
  const plan = planStack(spec, scaled);
  const applied = await applyRevision(deps.db, actor, {
    teamId: input.teamId,
    spec: scaled,
    yaml,
    kind: "scale",
    only: [input.service],
  });
  await notify(deps, applied);
  return { ...applied, plan, warnings: [] };
}

/** Remove a stack: its services and tasks go; hosts are told and stop the containers. */
export async function removeStack(deps: StackDeps, actor: Actor, input: { teamId: string; name: string }) {
  const stack = await findStack(deps.db, input.teamId, input.name);
  const hosts = await deps.db.transaction(async (tx) => {
    const rows = await tx.execute<{ host_id: string }>(sql`
      select distinct t.host_id from tasks t join services s on s.id = t.service_id
      where s.stack_id = ${stack.id} and t.host_id is not null`);
    await tx.delete(schema.stacks).where(eq(schema.stacks.id, stack.id));
    const ids = rows.rows.map((r) => r.host_id);
    await bumpHostTaskSets(tx, ids);
    await recordEvent(tx, {
      kind: "stack.remove",
      subjectType: "stack",
      subjectId: stack.id,
      message: `${input.name} removed by ${actor.name}`,
    });
    await recordAudit(tx, actor, {
      action: "stack.remove",
      targetType: "stack",
      targetId: stack.id,
      data: { name: input.name },
    });
    return ids;
  });
  await notify(deps, { stackId: stack.id, revision: stack.revision, hosts });
}

export async function findStack(db: Db, teamId: string, name: string) {
  const [stack] = await db
    .select()
    .from(schema.stacks)
    .where(and(eq(schema.stacks.teamId, teamId), eq(schema.stacks.name, name)));
  if (!stack) throw new BerthError("NotFound", `no stack named ${name}; \`berth stack ls\` lists them`);
  return stack;
}

/** The current revision's spec and how many live tasks each service has. */
async function currentSpec(db: Db, teamId: string, name: string) {
  const [stack] = await db
    .select()
    .from(schema.stacks)
    .where(and(eq(schema.stacks.teamId, teamId), eq(schema.stacks.name, name)));
  if (!stack || stack.revision === 0) return null;
  const [revision] = await db
    .select({ spec: schema.stackRevisions.spec })
    .from(schema.stackRevisions)
    .where(and(eq(schema.stackRevisions.stackId, stack.id), eq(schema.stackRevisions.n, stack.revision)));
  const counts = await db.execute<{ name: string; n: string }>(sql`
    select s.name, count(t.id) as n from services s
    left join tasks t on t.service_id = s.id and t.desired = 'running'
      and t.observed not in ('exited', 'failed', 'lost', 'shutdown')
    where s.stack_id = ${stack.id} group by s.name`);
  const tasks = Object.fromEntries(counts.rows.map((r) => [r.name, Number(r.n)]));
  return { spec: (revision?.spec ?? null) as unknown as StackSpec | null, tasks, revision: stack.revision };
}

async function notify(deps: StackDeps, applied: Applied): Promise<void> {
  if (!deps.feed) return;
  await deps.feed.publish({ topic: "stacks", id: applied.stackId });
  if (applied.hosts.length > 0) await deps.feed.publish({ topic: "tasks" });
}

/**
 * The YAML with one service's replicas changed. The number is replaced where
 * it stands, so the rest of the file keeps its every character (comments,
 * flow lists, quoting); only when the file has no replicas there is the
 * document re-printed with one added.
 */
export function withReplicas(text: string, service: string, replicas: number): string {
  const doc = parseDocument(text, { merge: true });
  const path = ["services", service, "deploy"];
  const node = doc.getIn([...path, "replicas"], true);
  if (isScalar(node) && node.range) {
    return `${text.slice(0, node.range[0])}${replicas}${text.slice(node.range[1])}`;
  }
  if (!isMap(doc.getIn(path))) doc.setIn(path, doc.createNode({}));
  doc.setIn([...path, "replicas"], replicas);
  return doc.toString({ flowCollectionPadding: false });
}
