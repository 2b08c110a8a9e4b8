import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isBerthError } from "@berth/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLocalEngine, type LocalEngine } from "../cli/containers/context.ts";
import { contractConfig } from "../runtime/contract/helpers.ts";
import { createTestEngine, type TestEngine } from "../testing/engine.ts";
import { describeRoot } from "../testing/root.ts";
import { type Builder, type BuildOptions, BuildStepError, createBuilder } from "./index.ts";

// Real builds: RUN in runc containers on a test bridge, layers into a real store.
let engine: TestEngine;
let local: LocalEngine;
let builder: Builder;
let dir: string;

const MULTI_STAGE = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM \${BASE} AS build
ARG GREETING=hello
WORKDIR /src
COPY greeting.txt ./
RUN echo "$GREETING from $(cat greeting.txt)" > /src/out.txt \\
 && mkdir -p /opt/app && cp /src/out.txt /opt/app/message
FROM busybox
LABEL org.example.stage=final
COPY --from=build /opt/app/message /message
ENV WHO=berth
CMD ["sh", "-c", "cat /message; echo by $WHO"]
`;

async function writeContext(files: Record<string, string>): Promise<string> {
  const context = await mkdtemp(path.join(dir, "ctx-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(context, name)), { recursive: true });
    await writeFile(path.join(context, name), text);
  }
  return context;
}

async function build(context: string, over: Partial<BuildOptions> = {}) {
  let output = "";
  const started = Date.now();
  const result = await builder.build({
    contextDir: context,
    tags: [],
    buildArgs: {},
    noCache: false,
    network: "bridge",
    out: (t) => {
      output += t;
    },
    ...over,
  });
  return { result, output, ms: Date.now() - started };
}

async function runImage(image: string): Promise<string> {
  const c = await engine.runtime.create(contractConfig(image, { command: undefined as never }));
  await engine.runtime.start(c.id);
  const code = await engine.runtime.wait(c.id);
  const lines: string[] = [];
  for await (const l of engine.runtime.logs(c.id)) lines.push(l.line);
  await engine.runtime.remove(c.id, { force: true });
  expect(code).toBe(0);
  return lines.join("\n");
}

const stepCount = (output: string) => (output.match(/^Step \d+\/\d+ : /gm) ?? []).length;
const cacheHits = (output: string) => (output.match(/^ ---> Using cache$/gm) ?? []).length;

describeRoot("berth-agent build (real containers)", () => {
  beforeAll(async () => {
    engine = await createTestEngine();
    dir = await mkdtemp(path.join(os.tmpdir(), "berth-build-"));
    local = createLocalEngine({ stateDir: engine.stateDir, log: pino({ level: "silent" }) });
    builder = createBuilder({
      stateDir: engine.stateDir,
      images: local.images,
      volumes: local.volumes,
      network: local.network,
      log: pino({ level: "silent" }),
      cgroupParent: "berth-build-test",
      pull: async (ref) => {
        throw new Error(`no registry in this test (asked for ${ref})`);
      },
    });
  }, 60_000);
  afterAll(async () => {
    await engine?.cleanup();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("builds a multi-stage Dockerfile, runs it, then rebuilds from the cache", async () => {
    const context = await writeContext({ Dockerfile: MULTI_STAGE, "greeting.txt": "the context\n" });
    const first = await build(context, { tags: ["app:1"], buildArgs: { GREETING: "hi" } });
    expect(first.output).toMatch(/Step 5\/10 : RUN echo/);
    expect(first.output).toContain("Successfully tagged app:1");
    expect(first.result.cached).toBe(0);
    expect(await runImage("app:1")).toBe("hi from the context\nby berth");

    const record = await local.images.inspect("app:1");
    expect(record.layers).toHaveLength(2); // busybox + the COPY --from layer
    expect(record.config.cmd).toEqual(["sh", "-c", "cat /message; echo by $WHO"]);

    const again = await build(context, { tags: ["app:1"], buildArgs: { GREETING: "hi" } });
    process.stderr.write(`cached rebuild: ${again.ms} ms (first build ${first.ms} ms)\n`);
    expect(cacheHits(again.output)).toBe(stepCount(again.output) - 2); // every step but the two FROMs
    expect(again.result.digest).toBe(first.result.digest);
    expect(again.ms).toBeLessThan(5_000);

    // Only the stages the target needs: the build stage alone.
    const target = await build(context, { target: "build", buildArgs: { GREETING: "hi" } });
    expect(stepCount(target.output)).toBe(5);
  });

  it("a changed context file invalidates the cache from its COPY on", async () => {
    const context = await writeContext({ Dockerfile: MULTI_STAGE, "greeting.txt": "one\n" });
    await build(context, { tags: ["app:2"] });
    await writeFile(path.join(context, "greeting.txt"), "two\n");
    const { output } = await build(context, { tags: ["app:2"] });
    const steps = output.split(/^Step /m).slice(1);
    const cachedAt = steps.map((s) => s.includes("---> Using cache"));
    // Steps: FROM, ARG, WORKDIR (cached), COPY greeting.txt, RUN, ... (rebuilt).
    expect(cachedAt.slice(0, 4)).toEqual([false, true, true, false]);
    expect(cachedAt[4]).toBe(false);
    expect(await runImage("app:2")).toBe("hello from two\nby berth");
  });

  it("a failing RUN fails the build with its exit code and leaves no image, container or mount", async () => {
    const context = await writeContext({
      Dockerfile: 'FROM busybox\nRUN echo before\nRUN echo failing; exit 3\nCMD ["true"]\n',
    });
    const before = (await local.images.list()).length;
    const err = await build(context, { tags: ["broken:1"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildStepError);
    expect((err as BuildStepError).exitCode).toBe(3);
    expect((err as Error).message).toMatch(/step 3\/4 \(RUN, Dockerfile:3\).*returned a non-zero code: 3/);
    expect((await local.images.list()).length).toBe(before);
    await expect(local.images.inspect("broken:1")).rejects.toSatisfy(
      (e: unknown) => isBerthError(e) && e.code === "NotFound",
    );
    expect(await engine.runtime.list({ all: true })).toEqual([]);
    const mounts = await readFile("/proc/self/mountinfo", "utf8");
    expect(mounts).not.toContain(engine.stateDir);
    const leftovers = await readdir(path.join(engine.stateDir, "build", "tmp")).catch(() => []);
    expect(leftovers.filter((f) => f.startsWith("build-"))).toEqual([]);
  });

  it("names an unsupported instruction and its line", async () => {
    const context = await writeContext({ Dockerfile: "FROM busybox\n\nONBUILD RUN echo no\n" });
    await expect(build(context)).rejects.toThrow(/Dockerfile:3: ONBUILD is not supported/);
  });
});
