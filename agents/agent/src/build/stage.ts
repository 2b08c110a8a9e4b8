import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { isOciError, type LayerTarOptions } from "@berth/oci";
import { BerthError } from "@berth/protocol";
import { DEFAULT_IMAGE_PATH } from "../images/index.ts";
import type { RuncRuntime } from "../runtime/runc/runtime.ts";
import type { withBuildRoots } from "./base.ts";
import { toStoreConfig } from "./base.ts";
import type { BuilderDeps, BuildOptions } from "./builder.ts";
import { type BuildCache, type CacheEntry, cacheKey } from "./cache.ts";
import { selectSources, sourcesHash, type Tree } from "./context/sources.ts";
import { evaluate, type Step } from "./dockerfile/instructions.ts";
import type { InstructionNode } from "./dockerfile/parse.ts";
import { type BuildPlan, findStage, type Stage } from "./dockerfile/stages.ts";
import { type BuildState, envMap, type HistoryEntry, stateId } from "./image-config.ts";
import { type BuildBlobs, commitLayer, type LayerBlob } from "./layer/blobs.ts";
import { isRuntimeArtifact } from "./layer/diff.ts";
import { performCopy, withStepRoot, withTempDir } from "./steps/copy-step.ts";
import { runStep } from "./steps/run.ts";

export interface StageContext {
  plan: BuildPlan;
  options: BuildOptions;
  deps: BuilderDeps;
  blobs: BuildBlobs;
  cache: BuildCache;
  runtime: RuncRuntime;
  roots: ReturnType<typeof withBuildRoots>;
  tree: Tree;
  globals: Map<string, string>;
  builtins: Map<string, string>;
  results: Map<number, BuildState>;
  consumed: Set<string>;
  counter: { step: number; cached: number };
  total: number;
  workDir: string;
  emptyLayer: string;
  findImage: (ref: string) => Promise<{ digest: string }>;
  baseState: (ref: string) => Promise<BuildState>;
}

const short = (digest: string) => digest.slice(digest.indexOf(":") + 1, digest.indexOf(":") + 13);

/**
 * A step's changes as a layer. An entry the store refuses (a symlink that points out of the root,
 * a device) fails the step, named, as the user's to fix.
 */
async function commitStep(
  ctx: StageContext,
  upperDir: string,
  options: LayerTarOptions,
  where: string,
): Promise<LayerBlob | null> {
  return commitLayer(upperDir, options, ctx.blobs, ctx.deps.images).catch((err: unknown) => {
    if (isOciError(err) && err.code === "InvalidArgument")
      throw new BuildStepError(`${where}: ${err.message}`, null, err);
    throw err;
  });
}

/** A failed step: which one, where, and (for RUN) the command's exit code. */
export class BuildStepError extends BerthError {
  readonly exitCode: number | null;
  constructor(message: string, exitCode: number | null, cause?: unknown) {
    super("FailedPrecondition", message, { cause });
    this.exitCode = exitCode;
  }
}

function layerDirs(ctx: StageContext, state: BuildState): string[] {
  return state.layers.length > 0 ? state.layers.map((l) => ctx.deps.images.layerPath(l)) : [ctx.emptyLayer];
}

/** A cached layer is usable while both its blob and its unpacked directory exist. */
async function layerPresent(ctx: StageContext, layer: LayerBlob | null): Promise<boolean> {
  if (!layer) return true;
  const dir = await stat(ctx.deps.images.layerPath(layer.diffId)).catch(() => null);
  return dir !== null && (await ctx.blobs.layerBlob(layer.diffId)) !== null;
}

function applyEntry(state: BuildState, entry: CacheEntry): BuildState {
  return {
    layers: entry.layer ? [...state.layers, entry.layer.diffId] : state.layers,
    size: (state.size ?? 0) + (entry.layer?.fileBytes ?? 0),
    config: entry.config,
    history: entry.history ? [...state.history, entry.history] : state.history,
    ...((entry.author ?? state.author) ? { author: entry.author ?? state.author } : {}),
  };
}

function history(createdBy: string, layer: LayerBlob | null): HistoryEntry {
  return {
    created: new Date().toISOString(),
    created_by: createdBy,
    comment: "berth build",
    ...(layer ? {} : { empty_layer: true }),
  };
}

interface StageVars {
  args: Map<string, string>;
  /** ENTRYPOINT drops an inherited CMD, not one this stage set. */
  cmdSet: boolean;
}

async function runRun(
  ctx: StageContext,
  state: BuildState,
  step: Extract<Step, { kind: "run" }>,
  vars: StageVars,
  where: string,
) {
  const env: Record<string, string> = {};
  const imageEnv = envMap(state.config.Env);
  for (const [k, v] of vars.args) if (!imageEnv.has(k)) env[k] = v;
  const ref = `sha256:${randomBytes(32).toString("hex")}`;
  ctx.roots.register(
    ref,
    {
      digest: ref,
      names: [],
      layerDirs: layerDirs(ctx, state),
      config: toStoreConfig(state.config, DEFAULT_IMAGE_PATH),
    },
    state.layers,
  );
  try {
    const run = await runStep({
      runtime: ctx.runtime,
      image: ref,
      args: step.args,
      env,
      ...(state.config.WorkingDir ? { workdir: state.config.WorkingDir } : {}),
      ...(state.config.User ? { user: state.config.User } : {}),
      network: ctx.options.network,
      out: ctx.options.out,
      ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
    });
    try {
      if (run.exitCode !== 0) {
        throw new BuildStepError(
          `${where}: the command '${step.args.join(" ")}' returned a non-zero code: ${run.exitCode}`,
          run.exitCode,
        );
      }
      return await commitStep(ctx, run.upperDir, { exclude: isRuntimeArtifact }, where);
    } finally {
      await run.remove();
    }
  } finally {
    ctx.roots.unregister(ref);
  }
}

/** The tree a COPY reads: the context, another stage's root or an image's (mounted for `fn`). */
async function withSourceTree<T>(
  ctx: StageContext,
  stage: Stage,
  from: string | undefined,
  fn: (tree: Tree) => Promise<T>,
) {
  if (from === undefined) return fn(ctx.tree);
  const source = findStage(ctx.plan.stages, from, stage.index);
  const state = source ? ctx.results.get(source.index) : await ctx.baseState(from);
  if (!state) throw new BerthError("Internal", `stage ${from} was not built`);
  return withTempDir(ctx.workDir, "from", (dir) =>
    withStepRoot(layerDirs(ctx, state), dir, (rootfs) =>
      fn({ root: rootfs, ignore: null, followLinks: true }),
    ),
  );
}

async function step(
  ctx: StageContext,
  stage: Stage,
  node: InstructionNode,
  state: BuildState,
  vars: StageVars,
) {
  const varsMap = new Map([...vars.args, ...envMap(state.config.Env)]);
  const evaluated = evaluate(node, {
    file: ctx.plan.file,
    escape: ctx.plan.escape,
    vars: varsMap,
    config: state.config,
  });
  ctx.counter.step += 1;
  const where = `step ${ctx.counter.step}/${ctx.total} (${node.keyword.toUpperCase()}, ${ctx.plan.file}:${node.line})`;
  ctx.options.out(`Step ${ctx.counter.step}/${ctx.total} : ${node.original}\n`);
  if (ctx.options.signal?.aborted) throw new BerthError("FailedPrecondition", "the build was interrupted");
  if (evaluated.kind === "arg") {
    for (const { name, value } of evaluated.args) {
      ctx.consumed.add(name);
      const given = ctx.options.buildArgs[name] ?? value ?? ctx.globals.get(name) ?? ctx.builtins.get(name);
      if (given !== undefined) vars.args.set(name, given);
    }
  }
  const args = [...vars.args.entries()];
  const keyFor = (content: string | null) =>
    cacheKey({
      parent: stateId(state),
      instruction: evaluated.createdBy,
      args,
      content,
      ...(evaluated.kind === "run" ? { network: ctx.options.network } : {}),
    });
  const finish = async (key: string, compute: () => Promise<CacheEntry>) => {
    const hit = ctx.options.noCache ? null : await ctx.cache.get(key);
    if (hit && (await layerPresent(ctx, hit.layer))) {
      ctx.counter.cached += 1;
      ctx.options.out(" ---> Using cache\n");
      return applyEntry(state, hit);
    }
    const entry = await compute();
    await ctx.cache.put(key, entry);
    return applyEntry(state, entry);
  };
  let next: BuildState;
  if (evaluated.kind === "arg") {
    next = await finish(keyFor(null), async () => ({ layer: null, config: state.config, history: null }));
  } else if (evaluated.kind === "config") {
    let config = evaluated.apply(state.config);
    if (node.keyword === "cmd") vars.cmdSet = true;
    if (node.keyword === "entrypoint" && !vars.cmdSet) config = { ...config, Cmd: null };
    next = await finish(keyFor(null), async () => ({
      layer: null,
      config,
      history: history(evaluated.createdBy, null),
      ...(evaluated.author ? { author: evaluated.author } : {}),
    }));
  } else if (evaluated.kind === "run") {
    next = await finish(keyFor(null), async () => {
      const layer = await runRun(ctx, state, evaluated, vars, where);
      return { layer, config: state.config, history: history(evaluated.createdBy, layer) };
    });
  } else {
    next = await withSourceTree(ctx, stage, evaluated.from, async (tree) => {
      const selected = await selectSources(tree, evaluated.sources).catch((err: unknown) => {
        throw new BuildStepError(`${where}: ${(err as Error).message}`, null, err);
      });
      return finish(keyFor(await sourcesHash(selected)), async () => {
        const layer = await withTempDir(ctx.workDir, "copy", async (dir) => {
          await withStepRoot(layerDirs(ctx, state), dir, (rootfs) =>
            performCopy({
              rootfs,
              tree,
              selected,
              add: evaluated.add,
              sourceCount: evaluated.sources.length,
              dest: evaluated.dest,
              workdir: state.config.WorkingDir ?? "/",
              ...(evaluated.chown !== undefined ? { chown: evaluated.chown } : {}),
              ...(evaluated.chmod !== undefined ? { chmod: evaluated.chmod } : {}),
              tempDir: ctx.workDir,
            }),
          );
          return commitStep(ctx, `${dir}/upper`, {}, where);
        });
        return { layer, config: state.config, history: history(evaluated.createdBy, layer) };
      });
    });
  }
  ctx.options.out(` ---> ${short(stateId(next))}\n`);
  return next;
}

/** Build one stage: its FROM, then each instruction, through the cache. */
export async function runStage(ctx: StageContext, stage: Stage, base: string): Promise<BuildState> {
  ctx.counter.step += 1;
  ctx.options.out(`Step ${ctx.counter.step}/${ctx.total} : ${stage.from.original}\n`);
  const source = findStage(ctx.plan.stages, base, stage.index);
  let state: BuildState;
  if (source) state = ctx.results.get(source.index)!;
  else if (base.toLowerCase() === "scratch") state = { layers: [], config: {}, history: [] };
  else state = await ctx.baseState(base);
  ctx.options.out(` ---> ${short(stateId(state))}\n`);
  const vars: StageVars = { args: new Map(), cmdSet: false };
  for (const node of stage.steps) state = await step(ctx, stage, node, state, vars);
  return state;
}
