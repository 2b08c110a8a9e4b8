import { getManifestDetails, getRepository, listRepositories } from "@berth/control";
import { isDigest, isRepositoryName } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { z } from "zod";
import { authedProcedure, router } from "../init.ts";
import { watchTopics } from "../watch.ts";

const repositoryName = z.string().max(255).refine(isRepositoryName, { message: "invalid repository name" });

/** The built-in registry, read-only: a logged-in user browses the repositories they may pull. */
export const registryRouter = router({
  repositories: authedProcedure.query(({ ctx }) =>
    listRepositories(ctx.cp.database.db, ctx.principal.userId),
  ),
  repository: authedProcedure
    .input(z.object({ name: repositoryName }))
    .query(({ ctx, input }) =>
      getRepository(ctx.cp.database.db, input.name, ctx.cp.registryBlobs, ctx.principal.userId),
    ),
  manifest: authedProcedure
    .input(z.object({ repository: repositoryName, digest: z.string().refine(isDigest, "invalid digest") }))
    .query(({ ctx, input }) => {
      if (!ctx.cp.registryBlobs) {
        throw new BerthError("FailedPrecondition", "this control plane runs without the built-in registry");
      }
      return getManifestDetails(
        ctx.cp.database.db,
        ctx.cp.registryBlobs,
        input.repository,
        input.digest,
        ctx.principal.userId,
      );
    }),
  /** Server-sent events: one message each time a push or delete changes a repository; clients refetch. */
  watch: authedProcedure.subscription(({ ctx, signal }) => watchTopics(ctx.cp.feed, ["registry"], signal)),
});
