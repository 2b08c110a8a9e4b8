import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { digestOf, MediaType, parseImageConfig, parseManifest } from "@berth/oci";
import { isBerthError } from "@berth/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLocalEngine, type LocalEngine } from "../cli/containers/context.ts";
import { runProgram } from "../exec.ts";
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

const FEATURES = `FROM busybox AS base
RUN echo "app:x:1234:1234::/home/app:/bin/sh" >> /etc/passwd && echo "app:x:1234:" >> /etc/group && rm /bin/vi
COPY --chown=app:app . /ctx/
ADD files.tar /opt/
FROM scratch AS flat
COPY --from=base /bin/busybox /bin/
FROM base
COPY --from=flat /bin/busybox /flat-busybox
WORKDIR /ctx
CMD ["sh", "-c", "echo $(ls -A /ctx); stat -c %u:%g /ctx/keep.tmp /ctx/app; cat /opt/data/x.txt; echo; test -e /bin/vi || echo vi gone; test -x /flat-busybox && echo flat ok"]
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
    // Sizes count regular files, as for imported images: busybox's plus the message.
    expect(record.size).toBe((await local.images.inspect("busybox")).size + "hi from the context\n".length);
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

  it("COPY --chown by name, .dockerignore, ADD of a tar, whiteouts, FROM scratch and COPY --from", async () => {
    const context = await writeContext({
      Dockerfile: FEATURES,
      ".dockerignore": "secret.txt\n*.tmp\n!keep.tmp\n",
      "secret.txt": "no",
      "a.tmp": "no",
      "keep.tmp": "yes",
      "app/run.sh": "echo run",
      "src/data/x.txt": "from the tar",
    });
    await runProgram("tar", [
      "-cf",
      path.join(context, "files.tar"),
      "-C",
      path.join(context, "src"),
      "data",
    ]);
    await rm(path.join(context, "src"), { recursive: true });
    const { output } = await build(context, { tags: ["features:1"] });
    expect(output).toContain("Successfully tagged features:1");
    expect((await runImage("features:1")).split("\n")).toEqual([
      ".dockerignore Dockerfile app files.tar keep.tmp",
      "1234:1234",
      "1234:1234",
      "from the tar",
      "vi gone",
      "flat ok",
    ]);
    const record = await local.images.inspect("features:1");
    expect(record.config).toMatchObject({ user: null, workdir: "/ctx", entrypoint: null });

    // The image as a registry or an OCI layout would hold it.
    const blob = (digest: string) =>
      readFile(path.join(engine.stateDir, "build", "blobs", "sha256", digest.slice(7)));
    const manifest = parseManifest(await blob(record.digest), MediaType.OciManifest);
    if (manifest.kind !== "manifest") throw new Error("not an image manifest");
    const config = parseImageConfig(await blob(manifest.manifest.config.digest));
    expect(config.rootfs.diff_ids).toHaveLength(record.layers.length);
    expect(manifest.manifest.layers).toHaveLength(record.layers.length);
    expect(config.history?.filter((h) => !h.empty_layer)).toHaveLength(record.layers.length);
    expect(config.config?.WorkingDir).toBe("/ctx");
    for (const layer of manifest.manifest.layers) {
      expect(digestOf(await blob(layer.digest))).toBe(layer.digest);
    }
  });

  it("the berth-agent build command: progress on stdout, a failed RUN exits non-zero", async () => {
    const context = await writeContext({ Dockerfile: "FROM busybox\nRUN echo out-$((6*7))\nRUN exit 7\n" });
    const result = spawnSync(engine.agent[0]!, [...engine.agent.slice(1), "build", "-t", "cli:1", context], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.stdout).toContain("Step 2/3 : RUN echo out-$((6*7))");
    expect(result.stdout).toContain("out-42");
    expect(result.stderr).toMatch(/FailedPrecondition: step 3\/3 \(RUN, Dockerfile:3\).*non-zero code: 7/);
    expect(result.status).toBe(5);
  });

  it("pulls a base that is not in the store; --no-cache runs every step again", async () => {
    const pulled: string[] = [];
    const pulling = createBuilder({
      stateDir: engine.stateDir,
      images: local.images,
      volumes: local.volumes,
      network: local.network,
      log: pino({ level: "silent" }),
      cgroupParent: "berth-build-test",
      pull: async (ref) => {
        pulled.push(ref);
        await local.images.tag("busybox", ref);
      },
    });
    const context = await writeContext({
      Dockerfile: "FROM registry.test:5000/base:1\nRUN echo pulled > /p\n",
    });
    const options = { contextDir: context, tags: [], buildArgs: {}, network: "none" as const, out: () => {} };
    await pulling.build({ ...options, noCache: false });
    expect(pulled).toEqual(["registry.test:5000/base:1"]);
    const again = await pulling.build({ ...options, noCache: true });
    expect(again.cached).toBe(0);
    expect(pulled).toHaveLength(1); // in the store now
  });

  it("a COPY of a link out of the root or a name that is not UTF-8 fails the step by name; dangling links are copied", async () => {
    const context = await writeContext({ Dockerfile: "FROM scratch\nCOPY . /app/\n", "data.txt": "data" });
    await symlink("../nowhere", path.join(context, "dangling"));
    const built = await build(context, { tags: ["links:1"] });
    expect(built.result.names).toEqual(["links:1"]);
    await symlink("../../../outside", path.join(context, "out"));
    const out = await build(context).catch((e: unknown) => e);
    expect(out).toBeInstanceOf(BuildStepError);
    expect((out as Error).message).toBe(
      'step 2/2 (COPY, Dockerfile:2): layer entry "app/out": symlink target "../../../outside" points outside the root',
    );
    await rm(path.join(context, "out"));
    await writeFile(Buffer.concat([Buffer.from(`${context}/caf`), Buffer.from([0xe9])]), "latin-1");
    await expect(build(context)).rejects.toThrow(
      /step 2\/2 \(COPY, Dockerfile:2\): ".*": the file name is not UTF-8/,
    );
  });

  it("names an unsupported instruction and its line", async () => {
    const context = await writeContext({ Dockerfile: "FROM busybox\n\nONBUILD RUN echo no\n" });
    await expect(build(context)).rejects.toThrow(/Dockerfile:3: ONBUILD is not supported/);
  });
});
