import { actorOf, createJoinToken, listJoinTokens, revokeJoinToken } from "@berth/control";
import { z } from "zod";
import { adminProcedure, router } from "../init.ts";

export const joinTokensRouter = router({
  list: adminProcedure.query(({ ctx }) => listJoinTokens(ctx.cp.database.db)),
  create: adminProcedure
    .input(
      z.object({
        description: z.string().max(200).optional(),
        ttlSeconds: z
          .number()
          .int()
          .positive()
          .max(30 * 24 * 3600)
          .optional(),
        maxUses: z.number().int().min(1).max(10_000).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const created = await createJoinToken(ctx.cp.database.db, actorOf(ctx.principal), {
        description: input.description,
        ttlMs: input.ttlSeconds ? input.ttlSeconds * 1000 : undefined,
        maxUses: input.maxUses,
      });
      await ctx.cp.feed.publish({ topic: "join-tokens", id: created.id });
      return created;
    }),
  revoke: adminProcedure
    .input(z.object({ id: z.string().min(1).max(100) }))
    .mutation(async ({ ctx, input }) => {
      await revokeJoinToken(ctx.cp.database.db, actorOf(ctx.principal), input.id);
      await ctx.cp.feed.publish({ topic: "join-tokens", id: input.id });
      return { ok: true };
    }),
});
