import {
  actorOf,
  createApiToken,
  listApiTokens,
  login,
  loginForToken,
  logout,
  revokeApiToken,
  SESSION_TTL_MS,
} from "@berth/control";
import { z } from "zod";
import { SESSION_COOKIE, sessionCookie } from "../../cookies.ts";
import { authedProcedure, publicProcedure, router } from "../init.ts";

const credentials = z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(1024) });

export const authRouter = router({
  me: publicProcedure.query(({ ctx }) =>
    ctx.principal
      ? { username: ctx.principal.username, role: ctx.principal.role, via: ctx.principal.via }
      : null,
  ),
  login: publicProcedure.input(credentials).mutation(async ({ ctx, input }) => {
    const s = await login(ctx.cp.database.db, input.username, input.password);
    ctx.setCookie(sessionCookie(s.token, { maxAgeMs: SESSION_TTL_MS, secure: ctx.cp.secureCookies }));
    return { username: s.username };
  }),
  logout: publicProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionToken) await logout(ctx.cp.database.db, ctx.sessionToken);
    ctx.setCookie(`${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return { ok: true };
  }),
  /** `berth login`: a password in, an API token out. */
  createTokenWithPassword: publicProcedure
    .input(credentials.extend({ name: z.string().min(1).max(100) }))
    .mutation(({ ctx, input }) =>
      loginForToken(ctx.cp.database.db, input.username, input.password, input.name),
    ),
  createToken: authedProcedure
    .input(
      z.object({
        name: z.string().min(1).max(100),
        ttlHours: z
          .number()
          .int()
          .positive()
          .max(24 * 365)
          .optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      createApiToken(ctx.cp.database.db, ctx.principal, {
        name: input.name,
        ttlMs: input.ttlHours ? input.ttlHours * 3600_000 : null,
      }),
    ),
  /** Revoke one of your tokens by id, or, with no id, the token this request came with. */
  revokeToken: authedProcedure
    .input(z.object({ id: z.string().min(1).max(100).optional() }).default({}))
    .mutation(async ({ ctx, input }) => {
      await revokeApiToken(
        ctx.cp.database.db,
        ctx.principal,
        input.id ? { id: input.id } : { token: ctx.bearerToken ?? "" },
      );
      return { ok: true };
    }),
  tokens: authedProcedure.query(({ ctx }) => listApiTokens(ctx.cp.database.db, ctx.principal)),
  whoami: authedProcedure.query(({ ctx }) => ({ ...actorOf(ctx.principal), role: ctx.principal.role })),
});
