import { actorOf, aRole, createUser, listUsers, roleAtLeast, setUserDisabled } from "@berth/control";
import { schema } from "@berth/db";
import { BerthError } from "@berth/protocol";
import { z } from "zod";
import { adminProcedure, router } from "../init.ts";

/** Users: fleet owners and admins list, create, disable and enable them; a new user starts in the default team. */
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
  /** Disable a user (logins, sessions and tokens refused) or enable them again. */
  setDisabled: adminProcedure
    .input(z.object({ username: z.string().min(1).max(100), disabled: z.boolean() }))
    .mutation(({ ctx, input }) =>
      setUserDisabled(
        ctx.cp.database.db,
        { ...actorOf(ctx.principal), userId: ctx.principal.userId, role: ctx.principal.role },
        input,
      ),
    ),
});
