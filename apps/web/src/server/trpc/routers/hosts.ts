import { getHost, listEvents, listHosts } from "@berth/control";
import { z } from "zod";
import { authedProcedure, router } from "../init.ts";
import { watchTopics } from "../watch.ts";

function withConnection<T extends { id: string }>(host: T, connected: Set<string>) {
  return { ...host, connected: connected.has(host.id) };
}

export const hostsRouter = router({
  list: authedProcedure.query(async ({ ctx }) => {
    const connected = new Set(ctx.cp.gateway.connectedHosts());
    const hosts = await listHosts(ctx.cp.database.db);
    return hosts.map((h) => withConnection(h, connected));
  }),
  get: authedProcedure.input(z.object({ id: z.string().min(1).max(100) })).query(async ({ ctx, input }) => {
    const host = await getHost(ctx.cp.database.db, input.id);
    const events = await listEvents(ctx.cp.database.db, {
      subjectType: "host",
      subjectId: input.id,
      limit: 50,
    });
    return { host: withConnection(host, new Set(ctx.cp.gateway.connectedHosts())), events };
  }),
  /** Server-sent events: one message each time any host changes; clients refetch. */
  watch: authedProcedure.subscription(({ ctx, signal }) => watchTopics(ctx.cp.feed, ["hosts"], signal)),
});
