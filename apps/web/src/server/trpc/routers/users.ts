import { actorOf, aRole, createUser, listUsers, roleAtLeast } from "@berth/control";
import { schema } from "@berth/db";
import { BerthError } from "@berth/protocol";
import { z } from "zod";
import { adminProcedure, router } from "../init.ts";

/** Users: fleet owners and admins list and create them; a new user starts in the default team. */
export const usersRouter = router({
  list: adminProcedure.query(({ ctx }) => listUsers(ctx.cp.database.db)),
  create: adminProcedure
    .input(
      z.object({
        username: z.string().min(1).max(100),
        password: z.string().min(1).max(1024),
        /** Their role in the default team, which is their role across the fleet. */
        role: z.enum(schema.ROLES),
        displayName: z.string().max(200).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      // Nobody makes a user above themselves: only an owner makes owners.
      if (!roleAtLeast(ctx.principal.role, input.role)) {
        throw new BerthError(
          "PermissionDenied",
          `as ${aRole(ctx.principal.role)} you cannot make ${aRole(input.role)}`,
        );
      }
      return createUser(ctx.cp.database.db, actorOf(ctx.principal), input);
    }),
});
