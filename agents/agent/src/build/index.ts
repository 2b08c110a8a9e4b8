/** Dockerfile builds on this host (berth-agent build). */
export {
  type Builder,
  type BuilderDeps,
  type BuildOptions,
  type BuildResult,
  createBuilder,
} from "./builder.ts";
export { BuildStepError } from "./stage.ts";
