import { type Db, newId, schema, type Tx } from "@berth/db";
import { BerthError } from "@berth/protocol";
import { type ServiceSpec, type StackSpec, templateDigest } from "@berth/spec";
import { and, eq, inArray, sql } from "drizzle-orm";
import { type Actor, recordAudit, recordEvent } from "../events.ts";

/**
 * Write a stack's new spec: one immutable revision, then the services made to
 * match it — in one transaction, the stack row locked so two deploys of one
 * stack take turns. Services whose container template changed start a
 * rolling update (the orchestrator carries it out); services no longer in the
 * spec are removed with their tasks (their hosts are told, and stop them).
 */
export interface RevisionInput {
  teamId: string;
  spec: StackSpec;
  yaml: string;
  kind: (typeof schema.REVISION_KINDS)[number];
  restoredFrom?: number;
  /**
   * Make only these services match the revision (a scale): the others keep what they run, which differs
   * from the revision after an automatic rollback — a scale must not start that failed update again.
   */
  only?: string[];
}

export interface Applied {
  stackId: string;
  revision: number;
  /** Hosts whose task sets changed (removed services' tasks). */
  hosts: string[];
}

export async function applyRevision(db: Db, actor: Actor, input: RevisionInput): Promise<Applied> {
  return db.transaction(async (tx) => {
    const stack = await lockOrCreateStack(tx, input.teamId, input.spec.name);
    const n = stack.revision + 1;
    await tx.insert(schema.stackRevisions).values({
      id: newId("rev"),
      stackId: stack.id,
      n,
      kind: input.kind,
      yaml: input.yaml,
      spec: input.spec as unknown as schema.StoredSpec,
      restoredFrom: input.restoredFrom ?? null,
      authorId: actor.userId,
      authorName: actor.name,
    });
    await tx
      .update(schema.stacks)
      .set({ revision: n, updatedAt: new Date() })
      .where(eq(schema.stacks.id, stack.id));
    const hosts = await syncServices(tx, stack.id, input.spec, input.only);
    await bumpHostTaskSets(tx, hosts);
    const verb =
      input.kind === "rollback"
        ? `rolled back to revision ${input.restoredFrom}`
        : input.kind === "scale"
          ? "scaled"
          : "deployed";
    await recordEvent(tx, {
      kind: `stack.${input.kind}`,
      subjectType: "stack",
      subjectId: stack.id,
      message: `${input.spec.name} ${verb} as revision ${n} by ${actor.name}`,
      data: { revision: n, ...(input.restoredFrom ? { restoredFrom: input.restoredFrom } : {}) },
    });
    await recordAudit(tx, actor, {
      action: `stack.${input.kind}`,
      targetType: "stack",
      targetId: stack.id,
      data: { name: input.spec.name, revision: n },
    });
    return { stackId: stack.id, revision: n, hosts };
  });
}

async function lockOrCreateStack(tx: Tx, teamId: string, name: string) {
  await tx
    .insert(schema.stacks)
    .values({ id: newId("stk"), teamId, name })
    .onConflictDoNothing({ target: [schema.stacks.teamId, schema.stacks.name] });
  const [stack] = await tx
    .select({ id: schema.stacks.id, revision: schema.stacks.revision })
    .from(schema.stacks)
    .where(and(eq(schema.stacks.teamId, teamId), eq(schema.stacks.name, name)))
    .for("update");
  if (!stack) throw new BerthError("Internal", `stack ${name} vanished while it was being deployed`);
  return stack;
}

async function syncServices(tx: Tx, stackId: string, spec: StackSpec, only?: string[]): Promise<string[]> {
  const s = schema.services;
  const existing = await tx.select().from(s).where(eq(s.stackId, stackId)).for("update");
  const now = new Date();
  for (const [name, service] of Object.entries(spec.services)) {
    if (only && !only.includes(name)) continue;
    const digest = templateDigest(service);
    const old = existing.find((e) => e.name === name);
    const stored = service as unknown as schema.StoredSpec;
    if (!old) {
      await tx.insert(s).values({ id: newId("svc"), stackId, name, spec: stored, digest, generation: 1 });
      continue;
    }
    if (JSON.stringify(old.spec) === JSON.stringify(stored)) continue;
    const templateChanged = old.digest !== digest;
    await tx
      .update(s)
      .set({
        spec: stored,
        previousSpec: old.spec,
        digest,
        generation: old.generation + 1,
        updatedAt: now,
        ...(templateChanged
          ? {
              updateState: "updating",
              updateStartedAt: now,
              updateMessage: `updating to generation ${old.generation + 1}`,
            }
          : {}),
      })
      .where(eq(s.id, old.id));
  }
  const removed = existing
    .filter((e) => !(e.name in spec.services) && (!only || only.includes(e.name)))
    .map((e) => e.id);
  if (removed.length === 0) return [];
  const hosts = await tx
    .selectDistinct({ hostId: schema.tasks.hostId })
    .from(schema.tasks)
    .where(and(inArray(schema.tasks.serviceId, removed), sql`${schema.tasks.hostId} is not null`));
  await tx.delete(s).where(inArray(s.id, removed));
  return hosts.map((h) => h.hostId!).filter(Boolean);
}

/** Bump the task-set version of each host, so the dispatcher sends them their new sets. */
export async function bumpHostTaskSets(tx: Tx | Db, hostIds: string[]): Promise<void> {
  const unique = [...new Set(hostIds)];
  if (unique.length === 0) return;
  await tx.execute(sql`
    insert into host_task_sets (host_id, version, updated_at)
    select h, 1, now() from unnest(${sql.param(unique)}::text[]) as h
    where exists (select 1 from hosts where hosts.id = h)
    on conflict (host_id) do update set version = host_task_sets.version + 1, updated_at = now()`);
}

/** The stored spec of a service, typed (it was validated by @berth/spec before it was stored). */
export function serviceSpecOf(stored: schema.StoredSpec): ServiceSpec {
  return stored as unknown as ServiceSpec;
}
