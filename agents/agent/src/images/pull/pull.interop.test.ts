import { spawn } from "node:child_process";
import { lstat, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRegistryClient, MediaType, parseManifest, parseReference } from "@berth/oci";
import { isBerthError } from "@berth/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullIfMissing } from "../../cli/containers/images.ts";
import { runCli } from "../../cli/program.ts";
import { createImageStore } from "../store.ts";
import type { PullEvent } from "./events.ts";
import {
  makeBusyboxLayout,
  pushLayout,
  type RegistryPeer,
  startRegistryPeer,
  type TestImage,
} from "./interop-support.ts";
import { pullImage } from "./pull.ts";

const client = createRegistryClient();
let registry: RegistryPeer;
let image: TestImage;
const stateDirs: string[] = [];
/** Layer blob digests as pushed (skopeo may compress the uncompressed layer on the way). */
let pushedLayers: string[] = [];

async function freshStore() {
  const dir = await mkdtemp(path.join(tmpdir(), "berth-pull-state-"));
  stateDirs.push(dir);
  return createImageStore(dir);
}

const blobGets = (digest: string) =>
  registry.requests().filter((l) => l.includes(`"GET /v2/`) && l.includes(`/blobs/${digest}`)).length;

function recorder() {
  const events: PullEvent[] = [];
  const statuses = () => events.flatMap((e) => (e.type === "layer" ? [`${e.id}:${e.status}`] : []));
  return { events, statuses, onProgress: (e: PullEvent) => events.push(e) };
}

const short = (digest: string) => digest.slice(7, 19);

beforeAll(async () => {
  [registry, image] = await Promise.all([startRegistryPeer(), makeBusyboxLayout()]);
  await pushLayout(image, registry.host, "test/busybox:1");
  await pushLayout(image, registry.host, "test/other:1");
  await pushLayout(image, registry.host, "test/docker:1", { format: "v2s2" });
  await pushLayout(image, registry.host, "test/multi:1", { tag: "multi" });
  const ref = parseReference(`${registry.host}/test/busybox:1`);
  const got = await client.getManifest(ref, [MediaType.OciManifest, MediaType.DockerManifest]);
  const parsed = parseManifest(got.bytes, got.mediaType);
  if (parsed.kind !== "manifest") throw new Error("skopeo pushed an index");
  pushedLayers = parsed.manifest.layers.map((l) => l.digest);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  for (const dir of [...stateDirs, image?.work]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe("pull from docker-registry (the reference implementation)", () => {
  it("pulls busybox: record, layers by diff ID with busybox inside, overlay whiteouts", async () => {
    const store = await freshStore();
    const ref = `${registry.host}/test/busybox:1`;
    const progress = recorder();
    const result = await pullImage(store, ref, { client, onProgress: progress.onProgress });

    expect(result.name).toBe(ref);
    expect(result.upToDate).toBe(false);
    expect(result.downloaded).toBe(2);
    expect(result.record.layers).toEqual(image.diffIds);
    expect(result.record.config).toEqual({
      env: ["PATH=/bin:/usr/bin", "GREETING=hello"],
      cmd: ["/bin/sh", "-c", "echo $GREETING"],
      entrypoint: null,
      workdir: "/root",
      user: null,
    });
    const resolved = await store.resolve(ref);
    expect(resolved.digest).toBe(result.record.digest);
    expect(resolved.layerDirs).toEqual(image.diffIds.map((d) => store.layerPath(d)));
    const busybox = await readFile(path.join(resolved.layerDirs[0]!, "bin", "busybox"));
    expect(busybox.equals(await readFile(path.join(image.rootfs, "bin", "busybox")))).toBe(true);
    expect((await lstat(path.join(resolved.layerDirs[0]!, "bin", "sh"))).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(resolved.layerDirs[1]!, "etc", "motd"), "utf8")).toBe(
      "pulled by berth\n",
    );
    const marker = await lstat(path.join(resolved.layerDirs[1]!, "etc", "group"));
    expect(marker.isCharacterDevice() && marker.rdev === 0).toBe(true);
    for (const d of pushedLayers) expect(progress.statuses()).toContain(`${short(d)}:Pull complete`);
    expect(progress.events.at(-1)).toMatchObject({ type: "done", status: "downloaded" });
    const last = progress.events.filter((e) => e.type === "progress").at(-1);
    expect(last).toMatchObject({ current: expect.any(Number), total: expect.any(Number) });

    const again = recorder();
    const before = pushedLayers.map(blobGets);
    const second = await pullImage(store, ref, { client, onProgress: again.onProgress });
    expect(second.upToDate).toBe(true);
    expect(second.downloaded).toBe(0);
    expect(again.statuses().filter((s) => s.endsWith(":Already exists"))).toHaveLength(2);
    expect(again.events.some((e) => e.type === "progress")).toBe(false);
    expect(pushedLayers.map(blobGets)).toEqual(before);
  }, 60_000);

  it("shares a layer with an imported rootfs: the import's layer is not downloaded again", async () => {
    const store = await freshStore();
    const imported = await store.importDirectory(image.rootfs, { name: "local/busybox" });
    expect(imported.layers).toEqual([image.diffIds[0]]);
    const progress = recorder();
    const result = await pullImage(store, `${registry.host}/test/busybox:1`, {
      client,
      onProgress: progress.onProgress,
    });
    expect(result.downloaded).toBe(1);
    expect(progress.statuses()).toContain(`${short(pushedLayers[0]!)}:Already exists`);
    expect(await readdir(path.join(store.root, "layers", "sha256"))).toHaveLength(2);
  }, 60_000);

  it("two concurrent pulls of images sharing layers download each layer once", async () => {
    const store = await freshStore();
    const before = pushedLayers.map(blobGets);
    const results = await Promise.all([
      pullImage(store, `${registry.host}/test/busybox:1`, { client }),
      pullImage(store, `${registry.host}/test/other:1`, { client }),
      pullImage(store, `${registry.host}/test/busybox:1`, { client }),
    ]);
    expect(results.reduce((n, r) => n + r.downloaded, 0)).toBe(2);
    expect(pushedLayers.map(blobGets)).toEqual(before.map((n) => n + 1));
    expect((await readdir(path.join(store.root, "layers", "sha256"))).sort()).toEqual(
      image.diffIds.map((d) => d.slice(7)).sort(),
    );
    expect((await store.list()).flatMap((i) => i.names).sort()).toEqual([
      `${registry.host}/test/busybox:1`,
      `${registry.host}/test/other:1`,
    ]);
    expect(await readdir(store.tempDir)).toEqual([]);
  }, 60_000);

  it("pulls Docker schema-2 and a multi-platform index (this host's manifest) from the same layers", async () => {
    const store = await freshStore();
    const v2s2 = await client.getManifest(parseReference(`${registry.host}/test/docker:1`), [
      MediaType.DockerManifest,
    ]);
    expect(v2s2.mediaType).toBe(MediaType.DockerManifest);
    const docker = await pullImage(store, `${registry.host}/test/docker:1`, { client });
    expect(docker.record.layers).toEqual(image.diffIds);
    const multi = await pullImage(store, `${registry.host}/test/multi:1`, { client });
    expect(multi.record.layers).toEqual(image.diffIds);
    expect(multi.downloaded).toBe(0);
    expect(multi.digest).not.toBe(multi.record.digest);
    const index = await client.getManifest(parseReference(`${registry.host}/test/multi:1`), [
      MediaType.OciIndex,
    ]);
    expect(index.mediaType).toBe(MediaType.OciIndex);
    expect(multi.digest).toBe(index.digest);
    expect(await readdir(path.join(store.root, "layers", "sha256"))).toHaveLength(2);
  }, 60_000);

  it("reports a missing tag as NotFound", async () => {
    const store = await freshStore();
    const err = await pullImage(store, `${registry.host}/test/busybox:nope`, { client }).catch(
      (e: unknown) => e,
    );
    expect(isBerthError(err) && err.code).toBe("NotFound");
  }, 30_000);

  it("berth-agent pull prints docker-like lines, then images lists the image", async () => {
    const store = await freshStore();
    const stateDir = path.dirname(store.root);
    let stdout = "";
    let stderr = "";
    const io = {
      stdout: (t: string) => {
        stdout += t;
      },
      stderr: (t: string) => {
        stderr += t;
      },
    };
    const ref = `${registry.host}/test/busybox:1`;
    expect(await runCli(["node", "berth-agent", "--state-dir", stateDir, "pull", ref], io)).toBe(0);
    expect(stderr).toBe("");
    const lines = stdout.trimEnd().split("\n");
    for (const d of pushedLayers) expect(lines).toContain(`${short(d)}: Pull complete`);
    expect(lines.at(-3)).toMatch(/^Digest: sha256:[a-f0-9]{64}$/);
    expect(lines.at(-2)).toBe(`Status: Downloaded newer image for ${ref}`);
    expect(lines.at(-1)).toBe(ref);
    expect(stdout).not.toContain("\x1b[");

    stdout = "";
    expect(await runCli(["node", "berth-agent", "--state-dir", stateDir, "pull", ref], io)).toBe(0);
    expect(stdout).toContain(`Status: Image is up to date for ${ref}`);
    stdout = "";
    expect(await runCli(["node", "berth-agent", "--state-dir", stateDir, "images"], io)).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${registry.host}/test/busybox\\s+1\\s`, "m"));
  }, 60_000);

  it("pullIfMissing (for run) pulls a missing image once, with progress on stderr", async () => {
    const store = await freshStore();
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) };
    const ref = `${registry.host}/test/other:1`;
    await pullIfMissing(store, ref, io);
    expect(out).toEqual([]);
    expect(err[0]).toBe(`Unable to find image '${ref}' locally\n`);
    expect(err.join("")).toContain(`Status: Downloaded newer image for ${ref}`);
    expect((await store.resolve(ref)).layerDirs).toHaveLength(2);
    err.length = 0;
    await pullIfMissing(store, ref, io);
    expect(err).toEqual([]);
    expect(await codeOf(pullIfMissing(store, "sha256:0123456789abcdef", io))).toBe("none");
  }, 60_000);

  it("two berth-agent processes pulling at once download each layer once", async () => {
    const store = await freshStore();
    const stateDir = path.dirname(store.root);
    const before = pushedLayers.map(blobGets);
    const ref = `${registry.host}/test/busybox:1`;
    const outputs = await Promise.all([
      agentProcess(stateDir, ["pull", ref]),
      agentProcess(stateDir, ["pull", ref]),
    ]);
    for (const o of outputs) expect(o).toMatchObject({ code: 0, stderr: "" });
    expect(pushedLayers.map(blobGets)).toEqual(before.map((n) => n + 1));
    const completes = outputs.map((o) => (o.stdout.match(/: Pull complete$/gm) ?? []).length);
    expect(completes.reduce((a, b) => a + b, 0)).toBe(2);
    expect(await readdir(path.join(store.root, "layers", "sha256"))).toHaveLength(2);
  }, 60_000);
});

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** Runs the agent's CLI from source (tsx) in a process of its own. */
function agentProcess(
  stateDir: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--state-dir", stateDir, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "none",
    (e: unknown) => (isBerthError(e) ? e.code : String(e)),
  );
}
