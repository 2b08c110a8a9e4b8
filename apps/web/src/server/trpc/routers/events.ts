import { listAudit, listEvents } from "@berth/control";
import { z } from "zod";
import { adminProcedure, authedProcedure, router } from "../init.ts";

export const eventsRouter = router({
  list: authedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(100) }).default({ limit: 100 }))
    .query(({ ctx, input }) => listEvents(ctx.cp.database.db, { limit: input.limit })),
  audit: adminProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(100) }).default({ limit: 100 }))
    .query(({ ctx, input }) => listAudit(ctx.cp.database.db, input.limit)),
});
