import {
  actorOf,
  createTeam,
  grantCeiling,
  listTeamMembers,
  listTeams,
  manageMembership,
  managementCeiling,
  removeTeam,
  teamAccess,
} from "@berth/control";
import { schema } from "@berth/db";
import { z } from "zod";
import { adminProcedure, authedProcedure, router } from "../init.ts";

const slug = z.string().min(1).max(63);
const username = z.string().min(1).max(100);

/**
 * Teams own stacks and the registry namespace of their slug. Anyone sees the
 * teams they are in (fleet admins see all); fleet admins create and remove
 * teams; a team's admins (and fleet admins) manage its members, never above
 * their own role.
 */
export const teamsRouter = router({
  list: authedProcedure.query(({ ctx }) => listTeams(ctx.cp.database.db, ctx.principal.userId)),
  create: adminProcedure
    .input(z.object({ name: z.string().min(1).max(100), slug: slug.optional() }))
    .mutation(({ ctx, input }) => createTeam(ctx.cp.database.db, actorOf(ctx.principal), input)),
  /** A team's members, the caller's role there, and the highest role they may give (null: none). */
  members: authedProcedure.input(z.object({ team: slug })).query(async ({ ctx, input }) => {
    const { team, role } = await teamAccess(ctx.cp.database.db, ctx.principal.userId, input.team);
    const manages = managementCeiling(role, ctx.principal.role);
    return { team, role, manages, members: await listTeamMembers(ctx.cp.database.db, team.id) };
  }),
  /** Add a user to a team, or change their role in it; `role: null` removes them. */
  setMember: authedProcedure
    .input(z.object({ team: slug, username, role: z.enum(schema.ROLES).nullable() }))
    .mutation(async ({ ctx, input }) => {
      const db = ctx.cp.database.db;
      const access = await teamAccess(db, ctx.principal.userId, input.team);
      const ceiling = grantCeiling(access.role, ctx.principal.role);
      return manageMembership(db, actorOf(ctx.principal), {
        team: access.team,
        username: input.username,
        role: input.role,
        ceiling,
      });
    }),
  remove: adminProcedure.input(z.object({ team: slug })).mutation(async ({ ctx, input }) => {
    const db = ctx.cp.database.db;
    const { team } = await teamAccess(db, ctx.principal.userId, input.team);
    await removeTeam(db, actorOf(ctx.principal), team);
    return { removed: team.slug };
  }),
});
