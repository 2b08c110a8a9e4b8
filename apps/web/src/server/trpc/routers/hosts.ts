import { actorOf, getHost, listEvents, listHosts, setHostAvailability, setHostLabels } from "@berth/control";
import { z } from "zod";
import { adminProcedure, authedProcedure, router } from "../init.ts";
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
  /** Drain a host (its tasks move elsewhere, nothing new lands on it) or make it active again. */
  setAvailability: adminProcedure
    .input(z.object({ id: z.string().min(1).max(100), availability: z.enum(["active", "drain"]) }))
    .mutation(async ({ ctx, input }) => {
      await setHostAvailability(ctx.cp.database.db, actorOf(ctx.principal), input.id, input.availability);
      await ctx.cp.feed.publish({ topic: "hosts", id: input.id });
      return { id: input.id, availability: input.availability };
    }),
  /** Set labels (value) or remove them (null). */
  label: adminProcedure
    .input(
      z.object({
        id: z.string().min(1).max(100),
        labels: z.record(z.string().max(63), z.string().max(255).nullable()),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const labels = await setHostLabels(ctx.cp.database.db, actorOf(ctx.principal), input.id, input.labels);
      await ctx.cp.feed.publish({ topic: "hosts", id: input.id });
      return { id: input.id, labels };
    }),
  /** Server-sent events: one message each time any host changes; clients refetch. */
  watch: authedProcedure.subscription(({ ctx, signal }) => watchTopics(ctx.cp.feed, ["hosts"], signal)),
});
