import {
  actorOf,
  deployStack,
  diffRevisions,
  getRevision,
  getStack,
  listEvents,
  listStacks,
  listStackTasks,
  planDeploy,
  removeStack,
  roleAtLeast,
  rollbackStack,
  scaleService,
  stackHistory,
  teamAccess,
} from "@berth/control";
import { BerthError } from "@berth/protocol";
import { z } from "zod";
import { authedProcedure, router } from "../init.ts";
import { watchTopics } from "../watch.ts";

/** Stack files are bounded before parsing too (the parser has its own bounds). */
const MAX_YAML_BYTES = 1024 * 1024;
const slug = z.string().min(1).max(63);
const name = z.string().min(1).max(63);
const teamInput = z.object({ team: slug.default("default") });

/**
 * Stacks are a team's: members read them, operators and above change them
 * (fleet admins act as admins in every team). Procedures stay thin — each
 * calls one function in packages/control.
 */
const teamProcedure = authedProcedure.input(teamInput).use(async ({ ctx, input, next }) => {
  const access = await teamAccess(ctx.cp.database.db, ctx.principal.userId, (input as { team: string }).team);
  return next({ ctx: { ...ctx, team: access.team, teamRole: access.role } });
});

const operatorProcedure = teamProcedure.use(({ ctx, next }) => {
  if (!roleAtLeast(ctx.teamRole, "operator")) {
    throw new BerthError(
      "PermissionDenied",
      `as a ${ctx.teamRole} of ${ctx.team.slug} you can look at its stacks but not change them; ask an operator`,
    );
  }
  return next();
});

const stackFile = z.object({
  yaml: z.string().min(1).max(MAX_YAML_BYTES),
  /** The stack's name when the file has none. */
  name: name.optional(),
  fileName: z.string().max(255).optional(),
  /** Values for ${VAR} interpolation, as Compose takes them from the shell and .env. */
  variables: z.record(z.string().max(255), z.string().max(100_000)).optional(),
  /** env_file contents by the path written in the stack file. */
  files: z.record(z.string().max(1000), z.string().max(MAX_YAML_BYTES)).optional(),
});

function fileInput(teamId: string, input: z.infer<typeof stackFile>) {
  const files = input.files ?? {};
  return {
    teamId,
    yaml: input.yaml,
    ...(input.name ? { name: input.name } : {}),
    ...(input.fileName ? { fileName: input.fileName } : {}),
    ...(input.variables ? { variables: input.variables } : {}),
    readFile: (path: string) => files[path],
  };
}

export const stacksRouter = router({
  list: teamProcedure.query(({ ctx }) => listStacks(ctx.cp.database.db, { teamIds: [ctx.team.id] })),
  get: teamProcedure.input(z.object({ name })).query(async ({ ctx, input }) => {
    const stack = await getStack(ctx.cp.database.db, ctx.team.id, input.name);
    const [tasks, history, events] = await Promise.all([
      listStackTasks(ctx.cp.database.db, ctx.team.id, input.name),
      stackHistory(ctx.cp.database.db, ctx.team.id, input.name),
      listEvents(ctx.cp.database.db, { subjectType: "stack", subjectId: stack.id, limit: 50 }),
    ]);
    return { stack, tasks, history, events, canChange: roleAtLeast(ctx.teamRole, "operator") };
  }),
  tasks: teamProcedure
    .input(z.object({ name, service: name.optional(), all: z.boolean().default(false) }))
    .query(({ ctx, input }) =>
      listStackTasks(ctx.cp.database.db, ctx.team.id, input.name, {
        ...(input.service ? { service: input.service } : {}),
        all: input.all,
      }),
    ),
  history: teamProcedure
    .input(z.object({ name }))
    .query(({ ctx, input }) => stackHistory(ctx.cp.database.db, ctx.team.id, input.name)),
  revision: teamProcedure
    .input(z.object({ name, n: z.number().int().positive() }))
    .query(({ ctx, input }) => getRevision(ctx.cp.database.db, ctx.team.id, input.name, input.n)),
  diff: teamProcedure
    .input(z.object({ name, from: z.number().int().positive(), to: z.number().int().positive() }))
    .query(({ ctx, input }) =>
      diffRevisions(ctx.cp.database.db, ctx.team.id, input.name, input.from, input.to),
    ),
  plan: operatorProcedure
    .input(stackFile)
    .mutation(({ ctx, input }) => planDeploy(ctx.cp.database.db, fileInput(ctx.team.id, input))),
  deploy: operatorProcedure
    .input(stackFile)
    .mutation(({ ctx, input }) =>
      deployStack(
        { db: ctx.cp.database.db, feed: ctx.cp.feed },
        actorOf(ctx.principal),
        fileInput(ctx.team.id, input),
      ),
    ),
  rollback: operatorProcedure
    .input(z.object({ name, to: z.number().int().positive().optional() }))
    .mutation(({ ctx, input }) =>
      rollbackStack({ db: ctx.cp.database.db, feed: ctx.cp.feed }, actorOf(ctx.principal), {
        teamId: ctx.team.id,
        name: input.name,
        ...(input.to ? { to: input.to } : {}),
      }),
    ),
  scale: operatorProcedure
    .input(z.object({ name, service: name, replicas: z.number().int().min(0).max(10_000) }))
    .mutation(({ ctx, input }) =>
      scaleService({ db: ctx.cp.database.db, feed: ctx.cp.feed }, actorOf(ctx.principal), {
        teamId: ctx.team.id,
        stack: input.name,
        service: input.service,
        replicas: input.replicas,
      }),
    ),
  remove: operatorProcedure.input(z.object({ name })).mutation(async ({ ctx, input }) => {
    await removeStack({ db: ctx.cp.database.db, feed: ctx.cp.feed }, actorOf(ctx.principal), {
      teamId: ctx.team.id,
      name: input.name,
    });
    return { removed: input.name };
  }),
  /** Server-sent events: one message each time a stack, its tasks or a host changes; clients refetch. */
  watch: authedProcedure.subscription(({ ctx, signal }) =>
    watchTopics(ctx.cp.feed, ["stacks", "hosts"], signal),
  ),
});
