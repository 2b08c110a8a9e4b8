import { stat } from "node:fs/promises";
import path from "node:path";
import { type Command, Option } from "commander";
import { createBuilder } from "../build/index.ts";
import { createLogger, type LogLevel } from "../logger.ts";
import type { NetworkMode } from "../runtime/types.ts";
import { openEngine } from "./containers/context.ts";
import { collect } from "./containers/flags.ts";
import { pullIfMissing } from "./containers/images.ts";
import { type CliIo, usageError } from "./io.ts";

interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  noCache?: boolean;
  target?: string;
  network: NetworkMode;
}

const HELP = `
Builds on this host with its own runtime: RUN steps run in real containers
(runc, the build network), each step that changes files adds a layer, and
unchanged steps come from the layer cache (--no-cache rebuilds them all).

Supported: FROM (local or registry image, scratch, AS name), RUN, COPY, ADD
(local files and tar archives), ENV, ARG, WORKDIR, USER, CMD, ENTRYPOINT,
EXPOSE, LABEL, VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, MAINTAINER; .dockerignore.

Examples:
  berth-agent build -t web:1 .
  berth-agent build -t web:1 -t web:latest -f docker/Dockerfile --build-arg VERSION=1.2 .
  berth-agent build --target builder --no-cache -t web:builder .`;

/** --build-arg K=V → { K: V }. */
export function parseBuildArgs(values: readonly string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0) throw usageError(`--build-arg ${value}: use NAME=VALUE`);
    args[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return args;
}

export function registerBuild(program: Command, io: CliIo): void {
  program
    .command("build")
    .summary("build an image from a Dockerfile")
    .argument("<context>", "the build context directory")
    .option("-t, --tag <name[:tag]>", "name the image (repeatable)", collect)
    .option("-f, --file <path>", "the Dockerfile (default: <context>/Dockerfile)")
    .option("--build-arg <NAME=VALUE>", "set a build-time ARG (repeatable)", collect)
    .option("--no-cache", "do not use the layer cache")
    .option("--target <stage>", "build this stage (and only the stages it needs)")
    .addOption(
      new Option("--network <mode>", "network of RUN steps")
        .choices(["bridge", "host", "none"])
        .default("bridge"),
    )
    .addHelpText("after", HELP)
    .action(async (contextDir: string, f: BuildFlags, cmd: Command) => {
      const info = await stat(contextDir).catch(() => null);
      if (!info?.isDirectory()) throw usageError(`build context ${contextDir} is not a directory`);
      const engine = openEngine(cmd);
      const level = cmd.optsWithGlobals<{ logLevel?: LogLevel }>().logLevel ?? "warn";
      const builder = createBuilder({
        stateDir: engine.stateDir,
        images: engine.images,
        volumes: engine.volumes,
        network: engine.network,
        log: createLogger(level),
        pull: (ref) => pullIfMissing(engine.images, ref, io),
      });
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await builder.build({
          contextDir: path.resolve(contextDir),
          ...(f.file ? { dockerfile: path.resolve(f.file) } : {}),
          tags: f.tag ?? [],
          buildArgs: parseBuildArgs(f.buildArg ?? []),
          // commander turns --no-cache into cache: false
          noCache: (f as { cache?: boolean }).cache === false,
          ...(f.target ? { target: f.target } : {}),
          network: f.network,
          out: io.stdout,
          signal: abort.signal,
        });
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
