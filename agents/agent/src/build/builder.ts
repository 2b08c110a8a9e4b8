import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import type { Logger } from "pino";
import { DEFAULT_IMAGE_PATH, hostPlatform, type ImageStore } from "../images/index.ts";
import type { NetworkManager } from "../network/index.ts";
import { createRuncRuntime, type RuncRuntime } from "../runtime/runc/runtime.ts";
import type { NetworkMode } from "../runtime/types.ts";
import type { VolumeStore } from "../volumes/index.ts";
import { findImage, stateFromImage, toStoreConfig, withBuildRoots } from "./base.ts";
import { type BuildCache, createBuildCache } from "./cache.ts";
import { commitImage } from "./commit.ts";
import { createIgnoreMatcher, parseDockerignore } from "./context/dockerignore.ts";
import type { Tree } from "./context/sources.ts";
import { parseDockerfile } from "./dockerfile/parse.ts";
import { processWord } from "./dockerfile/shell-lex.ts";
import { type BuildPlan, neededStages, planStages, type Stage, targetIndex } from "./dockerfile/stages.ts";
import { type BuildState, emptyState, stateId } from "./image-config.ts";
import { type BuildBlobs, createBuildBlobs } from "./layer/blobs.ts";
import { runStage, type StageContext } from "./stage.ts";

export interface BuildOptions {
  contextDir: string;
  /** Path of the Dockerfile (default: <context>/Dockerfile). */
  dockerfile?: string;
  /** Names to give the image ("name[:tag]"); none leaves it untagged. */
  tags: string[];
  buildArgs: Record<string, string>;
  noCache: boolean;
  target?: string;
  network: NetworkMode;
  /** Progress and RUN output. */
  out: (text: string) => void;
  signal?: AbortSignal;
}

export interface BuildResult {
  /** The image's digest in the store (its manifest digest). */
  digest: string;
  names: string[];
  steps: number;
  cached: number;
}

export interface BuilderDeps {
  stateDir: string;
  images: ImageStore;
  volumes: VolumeStore;
  network: NetworkManager;
  log: Logger;
  runcBinary?: string;
  cgroupParent?: string;
  /** Bring an image that is not in the store into it (a registry pull). */
  pull: (ref: string) => Promise<void>;
}

/** Platform ARGs BuildKit predefines; a Dockerfile may use them after declaring them. */
function platformArgs(): Map<string, string> {
  const p = hostPlatform();
  const platform = [p.os, p.architecture, p.variant].filter(Boolean).join("/");
  const args = new Map<string, string>();
  for (const prefix of ["TARGET", "BUILD"]) {
    args.set(`${prefix}PLATFORM`, platform);
    args.set(`${prefix}OS`, p.os);
    args.set(`${prefix}ARCH`, p.architecture);
    args.set(`${prefix}VARIANT`, p.variant ?? "");
  }
  return args;
}

/** Global ARGs (before the first FROM): usable in FROM lines, and as defaults for a stage's ARG. */
function globalArgs(plan: BuildPlan, buildArgs: Record<string, string>): Map<string, string> {
  const values = new Map<string, string>();
  const builtins = platformArgs();
  for (const node of plan.globalArgs) {
    for (const word of node.rest.split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf("=");
      const name = eq === -1 ? word : word.slice(0, eq);
      const given = buildArgs[name] ?? builtins.get(name);
      const fallback = eq === -1 ? undefined : processWord(word.slice(eq + 1), values, plan.escape);
      const value = given ?? fallback;
      if (value !== undefined) values.set(name, value);
    }
  }
  return values;
}

async function readDockerfile(options: BuildOptions): Promise<{ text: string; name: string }> {
  const file = options.dockerfile ?? path.join(options.contextDir, "Dockerfile");
  try {
    return { text: await readFile(file, "utf8"), name: path.basename(file) };
  } catch (err) {
    throw new BerthError("NotFound", `cannot read the Dockerfile ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function contextTree(contextDir: string): Promise<Tree> {
  const ignoreText = await readFile(path.join(contextDir, ".dockerignore"), "utf8").catch(() => "");
  try {
    return {
      root: path.resolve(contextDir),
      ignore: createIgnoreMatcher(parseDockerignore(ignoreText)),
      followLinks: false,
    };
  } catch (err) {
    throw new BerthError("InvalidArgument", `.dockerignore: ${(err as Error).message}`, { cause: err });
  }
}

export interface Builder {
  build(options: BuildOptions): Promise<BuildResult>;
}

export function createBuilder(deps: BuilderDeps): Builder {
  const blobs: BuildBlobs = createBuildBlobs(deps.stateDir);
  const cache: BuildCache = createBuildCache(deps.stateDir);
  const roots = withBuildRoots(deps.images);
  const runtime: RuncRuntime = createRuncRuntime({
    stateDir: deps.stateDir,
    log: deps.log,
    images: roots.images,
    volumes: deps.volumes,
    network: deps.network,
    exitCommand: [],
    ...(deps.runcBinary ? { runcBinary: deps.runcBinary } : {}),
    ...(deps.cgroupParent ? { cgroupParent: deps.cgroupParent } : {}),
  });

  async function build(options: BuildOptions): Promise<BuildResult> {
    const { text, name } = await readDockerfile(options);
    const plan = planStages(parseDockerfile(text, name));
    const globals = globalArgs(plan, options.buildArgs);
    const expandBase = (s: Stage) => processWord(s.base, globals, plan.escape);
    const target = targetIndex(plan, options.target);
    const needed = neededStages(plan, target, expandBase);
    const total = needed.reduce((n, i) => n + 1 + plan.stages[i]!.steps.length, 0);
    const workDir = path.join(blobs.tempDir, `build-${randomBytes(6).toString("hex")}`);
    const emptyLayer = path.join(workDir, "empty");
    await mkdir(emptyLayer, { recursive: true });
    const results = new Map<number, BuildState>();
    const consumed = new Set<string>();
    const counter = { step: 0, cached: 0 };
    try {
      const ctx: StageContext = {
        plan,
        options,
        deps,
        blobs,
        cache,
        runtime,
        roots,
        tree: await contextTree(options.contextDir),
        globals,
        builtins: platformArgs(),
        results,
        consumed,
        counter,
        total,
        workDir,
        emptyLayer,
        findImage: (ref) => findImage(deps.images, ref, deps.pull),
        baseState: async (ref) =>
          stateFromImage(await findImage(deps.images, ref, deps.pull), blobs, deps.images),
      };
      for (const index of needed) {
        const stage = plan.stages[index]!;
        const base = expandBase(stage);
        results.set(index, await runStage(ctx, stage, base));
      }
      const unused = Object.keys(options.buildArgs).filter((k) => !consumed.has(k) && !globals.has(k));
      if (unused.length > 0) {
        options.out(`[Warning] One or more build-args [${unused.join(" ")}] were not consumed\n`);
      }
      const final = results.get(target) ?? emptyState();
      const record = await commitImage({
        state: final,
        tags: options.tags,
        store: deps.images,
        blobs,
        storeConfig: toStoreConfig(final.config, DEFAULT_IMAGE_PATH),
      });
      options.out(`Successfully built ${record.digest.slice(7, 19)}\n`);
      for (const tag of record.tagged) options.out(`Successfully tagged ${tag}\n`);
      deps.log.debug({ state: stateId(final), digest: record.digest }, "build finished");
      return { digest: record.digest, names: record.tagged, steps: counter.step, cached: counter.cached };
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  return { build };
}
