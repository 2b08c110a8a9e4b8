import { createDb, type Database, schema } from "@berth/db";
import { type ServiceSpec, templateDigest } from "@berth/spec";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SYSTEM_ACTOR } from "../events.ts";
import { defaultTeamId } from "../users.ts";
import { deployStack, scaleService } from "./operations.ts";

// Found by the lab tests: after an automatic rollback a service runs its previous spec while the stack's
// current revision still holds the failed one. A scale writes the next revision from the current one;
// making every service match it re-applied the failed spec and started the failed update again.
let database: Database;
let teamId: string;
beforeAll(async () => {
  database = createDb(inject("databaseUrl"));
  teamId = await defaultTeamId(database.db);
});
afterAll(() => database.close());

const file = (name: string, webImage: string) => `
name: ${name}
services:
  web:
    image: ${webImage}
    deploy: { update_config: { failure_action: rollback } }
  api:
    image: api:1
`;

/** A stack whose web update to web:2 failed and was rolled back to web:1, as the orchestrator leaves it. */
async function rolledBackStack() {
  const db = database.db;
  const name = `rb-${Math.random().toString(36).slice(2, 8)}`;
  await deployStack({ db }, SYSTEM_ACTOR, { teamId, yaml: file(name, "web:1") });
  await deployStack({ db }, SYSTEM_ACTOR, { teamId, yaml: file(name, "web:2") });
  // What orchestrate.ts writes when web:2 fails with failure_action rollback, then when the rollback ends.
  const [stack] = await db.select().from(schema.stacks).where(eq(schema.stacks.name, name));
  const s = schema.services;
  const [web] = await db
    .select()
    .from(s)
    .where(and(eq(s.stackId, stack!.id), eq(s.name, "web")));
  const restored = web!.previousSpec!;
  await db
    .update(s)
    .set({
      spec: restored,
      previousSpec: web!.spec,
      digest: templateDigest(restored as unknown as ServiceSpec),
      generation: web!.generation + 1,
      updateState: "rolled_back",
    })
    .where(eq(s.id, web!.id));
  const webNow = async () => (await db.select().from(s).where(eq(s.id, web!.id)))[0]!;
  return { name, webNow };
}

const scale = (stack: string, service: string, replicas: number) =>
  scaleService({ db: database.db }, SYSTEM_ACTOR, { teamId, stack, service, replicas });

describe("scaling after an automatic rollback", () => {
  it("leaves the rolled-back service alone when another service is scaled", async () => {
    const { name, webNow } = await rolledBackStack();
    await scale(name, "api", 3);
    const web = await webNow();
    expect((web.spec as { image: string }).image).toBe("web:1");
    expect(web.updateState).toBe("rolled_back");
  });

  // As Swarm does: a scale changes the replicas of the spec the service runs.
  it("keeps the rolled-back spec when that service itself is scaled", async () => {
    const { name, webNow } = await rolledBackStack();
    await scale(name, "web", 2);
    const web = await webNow();
    expect((web.spec as { image: string }).image).toBe("web:1");
    expect((web.spec as { deploy: { replicas: number } }).deploy.replicas).toBe(2);
    expect(web.updateState).toBe("rolled_back");
  });
});
