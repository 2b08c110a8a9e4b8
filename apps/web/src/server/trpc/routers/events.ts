import { listAudit, listEvents } from "@berth/control";
import { z } from "zod";
import { adminProcedure, authedProcedure, router } from "../init.ts";

const limit = z.number().int().min(1).max(500).default(100);
/** Subject types: host, stack, service, task, registry. */
const types = z.array(z.string().min(1).max(40)).min(1).max(10).optional();

export const eventsRouter = router({
  /** The newest events first (of some subject types only, when given). */
  list: authedProcedure.input(z.object({ limit, types }).default({ limit: 100 })).query(({ ctx, input }) =>
    listEvents(ctx.cp.database.db, {
      limit: input.limit,
      ...(input.types ? { subjectTypes: input.types } : {}),
    }),
  ),
  /**
   * Events oldest first after a cursor (`afterId`) and/or from a time on
   * (`sinceMs`, epoch milliseconds): what `berth events -f` polls.
   */
  after: authedProcedure
    .input(
      z.object({
        afterId: z.number().int().min(0).optional(),
        sinceMs: z.number().int().min(0).optional(),
        types,
        limit,
      }),
    )
    .query(({ ctx, input }) =>
      listEvents(ctx.cp.database.db, {
        order: "asc",
        limit: input.limit,
        ...(input.afterId !== undefined ? { afterId: input.afterId } : {}),
        ...(input.sinceMs !== undefined ? { since: new Date(input.sinceMs) } : {}),
        ...(input.types ? { subjectTypes: input.types } : {}),
      }),
    ),
  audit: adminProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(100) }).default({ limit: 100 }))
    .query(({ ctx, input }) => listAudit(ctx.cp.database.db, input.limit)),
});
