import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { router } from "./init.ts";
import { authRouter } from "./routers/auth.ts";
import { eventsRouter } from "./routers/events.ts";
import { hostsRouter } from "./routers/hosts.ts";
import { joinTokensRouter } from "./routers/join-tokens.ts";
import { registryRouter } from "./routers/registry.ts";
import { stacksRouter } from "./routers/stacks.ts";
import { teamsRouter } from "./routers/teams.ts";
import { usersRouter } from "./routers/users.ts";

export const appRouter = router({
  auth: authRouter,
  hosts: hostsRouter,
  joinTokens: joinTokensRouter,
  events: eventsRouter,
  registry: registryRouter,
  stacks: stacksRouter,
  teams: teamsRouter,
  users: usersRouter,
});

export type AppRouter = typeof appRouter;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
