import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRegistryClient } from "@berth/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../cli/program.ts";
import { runProgram } from "../../exec.ts";
import { makeBusyboxRootfs } from "../../testing/busybox.ts";
import {
  makeBusyboxLayout,
  pushLayout,
  type RegistryPeer,
  requirePeer,
  startRegistryPeer,
  type TestImage,
} from "../pull/interop-support.ts";
import { pullImage } from "../pull/pull.ts";
import { createImageStore } from "../store.ts";

// berth-agent push against Debian's docker-registry (the reference implementation) on loopback.

const client = createRegistryClient();
let registry: RegistryPeer;
let other: RegistryPeer;
let image: TestImage;
let work: string;

beforeAll(async () => {
  await requirePeer("skopeo", ["--version"], "apt-get install -y skopeo");
  await requirePeer("umoci", ["--version"], "apt-get install -y umoci");
  work = await mkdtemp(path.join(tmpdir(), "berth-push-interop-"));
  [registry, other, image] = await Promise.all([
    startRegistryPeer(),
    startRegistryPeer(),
    makeBusyboxLayout(),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), other?.stop()]);
  for (const dir of [work, image?.work]) if (dir) await rm(dir, { recursive: true, force: true });
});

async function agent(stateDir: string, ...args: string[]) {
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
  const code = await runCli(["node", "berth-agent", "--state-dir", stateDir, ...args], io);
  return { code, stdout, stderr };
}

const skopeoInspect = async (...args: string[]) =>
  JSON.parse(await runProgram("skopeo", ["inspect", ...args], { timeoutMs: 30_000 })) as {
    Digest: string;
    Layers: string[];
  };

const blobPosts = () => registry.requests().filter((l) => /"POST \/v2\/[^"]*\/blobs\/uploads\//.test(l));

describe("push to docker-registry", () => {
  it("pushes an imported busybox that pulls back with the same digest, and skopeo reads it", async () => {
    const stateA = path.join(work, "a");
    const rootfs = await makeBusyboxRootfs(path.join(work, "rootfs"));
    expect((await agent(stateA, "import", rootfs, "busybox:1")).code).toBe(0);
    const ref = `${registry.host}/test/pushed:1`;
    const pushed = await agent(stateA, "push", "busybox:1", ref);
    expect(pushed, pushed.stderr).toMatchObject({ code: 0, stderr: "" });
    const lines = pushed.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`The push refers to repository [${registry.host}/test/pushed]`);
    expect(lines).toContainEqual(expect.stringMatching(/^[a-f0-9]{12}: Pushed$/));
    const digest = /^1: digest: (sha256:[a-f0-9]{64}) size: \d+$/.exec(lines.at(-1)!)?.[1];
    expect(digest).toBeDefined();

    const inspected = JSON.parse(
      await runProgram("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], { timeoutMs: 30_000 }),
    ) as { Digest: string; Layers: string[] };
    expect(inspected.Digest).toBe(digest);
    expect(inspected.Layers).toHaveLength(1);

    const storeB = createImageStore(path.join(work, "b"));
    const pulled = await pullImage(storeB, ref, { client });
    expect(pulled.digest).toBe(digest);
    const dir = (await storeB.resolve(ref)).layerDirs[0]!;
    const busybox = await readFile(path.join(dir, "bin", "busybox"));
    expect(busybox.equals(await readFile(path.join(rootfs, "bin", "busybox")))).toBe(true);

    const posts = blobPosts().length;
    const again = await agent(stateA, "push", "busybox:1", ref);
    expect(again.stdout).toMatch(/^[a-f0-9]{12}: Layer already exists$/m);
    expect(again.stdout).toContain(`1: digest: ${digest}`);
    expect(blobPosts().length).toBe(posts);
  }, 120_000);

  it("re-pushes a pulled image (with a whiteout layer) to another repository by mounting its blobs", async () => {
    await pushLayout(image, registry.host, "test/source:1");
    const state = path.join(work, "c");
    const source = `${registry.host}/test/source:1`;
    expect((await agent(state, "pull", source)).code).toBe(0);
    const pushed = await agent(state, "push", source, `${registry.host}/test/copy:1`);
    expect(pushed, pushed.stderr).toMatchObject({ code: 0 });
    const mounted = pushed.stdout.split("\n").filter((l) => l.endsWith(": Mounted from test/source"));
    expect(mounted).toHaveLength(2);
    expect(pushed.stdout).not.toMatch(/: Pushed$/m);

    const storeD = createImageStore(path.join(work, "d"));
    const pulled = await pullImage(storeD, `${registry.host}/test/copy:1`, { client });
    expect(pulled.record.layers).toEqual(image.diffIds);
  }, 120_000);

  it("pulls (Docker schema 2) from one docker-registry and pushes to another: identical digests", async () => {
    await pushLayout(image, registry.host, "test/v2s2:1", { format: "v2s2" });
    const source = `${registry.host}/test/v2s2:1`;
    const state = path.join(work, "e");
    expect((await agent(state, "pull", source)).code).toBe(0);
    const original = await skopeoInspect("--tls-verify=false", `docker://${source}`);
    const target = `${other.host}/copied/v2s2:1`;
    const pushed = await agent(state, "push", source, target);
    expect(pushed, pushed.stderr).toMatchObject({ code: 0 });
    expect(pushed.stdout).toContain(`1: digest: ${original.Digest}`);
    const copied = await skopeoInspect("--tls-verify=false", `docker://${target}`);
    expect(copied.Digest).toBe(original.Digest);
    expect(copied.Layers).toEqual(original.Layers);
    const raw = (ref: string, what: string) =>
      runProgram("skopeo", ["inspect", "--tls-verify=false", what, `docker://${ref}`], { timeoutMs: 30_000 });
    expect(await raw(target, "--config")).toBe(await raw(source, "--config"));
  }, 120_000);

  it("saves a pulled image whose oci-archive skopeo reads with the manifest digest it was pulled with", async () => {
    await pushLayout(image, registry.host, "test/saved:1");
    const source = `${registry.host}/test/saved:1`;
    const state = path.join(work, "f");
    expect((await agent(state, "pull", source)).code).toBe(0);
    const original = await skopeoInspect("--tls-verify=false", `docker://${source}`);
    const archive = path.join(work, "saved.tar");
    expect((await agent(state, "save", "-o", archive, source)).code).toBe(0);
    const saved = await skopeoInspect(`oci-archive:${archive}`);
    expect(saved.Digest).toBe(original.Digest);
    expect(saved.Layers).toEqual(original.Layers);
  }, 120_000);

  it("pushes a built layer (gzip in 4 MiB members, made on several threads) that skopeo copies and umoci unpacks to the context's files", async () => {
    // Go's gzip reader (skopeo verifies each blob, umoci inflates it) must read every member.
    const context = path.join(work, "context");
    await mkdir(path.join(context, "data", "text"), { recursive: true });
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 3; i++) files[`data/random-${i}`] = randomBytes(3 * 1024 * 1024 + i);
    for (let i = 0; i < 200; i++) files[`data/text/${i}.txt`] = Buffer.from(`line ${i}\n`.repeat(500 + i));
    for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(context, name), bytes);
    await symlink("random-0", path.join(context, "data", "link"));
    await writeFile(path.join(context, "Dockerfile"), "FROM scratch\nCOPY data /data/\n");
    const state = path.join(work, "g");
    const built = await agent(state, "build", "-t", "built:1", context);
    expect(built, built.stderr).toMatchObject({ code: 0 });
    const ref = `${registry.host}/test/built:1`;
    const pushed = await agent(state, "push", "built:1", ref);
    expect(pushed, pushed.stderr).toMatchObject({ code: 0 });

    const layout = path.join(work, "built-layout");
    await runProgram("skopeo", ["copy", "--src-tls-verify=false", `docker://${ref}`, `oci:${layout}:1`], {
      timeoutMs: 60_000,
    });
    const [layer] = (await skopeoInspect(`oci:${layout}:1`)).Layers;
    const blob = await readFile(path.join(layout, "blobs", "sha256", layer!.slice("sha256:".length)));
    // Each member starts with the same 10-byte gzip header (no name, no time): ~9.5 MB of tar in
    // 4 MiB blocks is three members.
    const header = blob.subarray(0, 10);
    let members = 0;
    for (let at = 0; at >= 0; at = blob.indexOf(header, at + 1)) members++;
    expect(members).toBe(3);

    const bundle = path.join(work, "built-bundle");
    const rootless = process.getuid?.() === 0 ? [] : ["--rootless"];
    await runProgram("umoci", ["unpack", ...rootless, "--image", `${layout}:1`, bundle], {
      timeoutMs: 60_000,
    });
    for (const [name, bytes] of Object.entries(files)) {
      expect((await readFile(path.join(bundle, "rootfs", name))).equals(bytes), name).toBe(true);
    }
    expect(
      (await readFile(path.join(bundle, "rootfs", "data", "link"))).equals(files["data/random-0"]!),
    ).toBe(true);
  }, 180_000);
});
