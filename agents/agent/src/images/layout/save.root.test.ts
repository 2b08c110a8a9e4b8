import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runProgram } from "../../exec.ts";
import { contractConfig } from "../../runtime/contract/helpers.ts";
import { createTestEngine, type TestEngine } from "../../testing/engine.ts";
import { describeRoot } from "../../testing/root.ts";
import { makeBusyboxLayout, type TestImage } from "../pull/interop-support.ts";
import { createImageStore, type ImageStore } from "../store.ts";
import { loadImages } from "./load.ts";
import { saveImages } from "./save.ts";

// An image with a whiteout layer (from an OCI layout skopeo would push), saved by berth-agent,
// unpacked by umoci (the OCI reference tooling), and loaded into a fresh state directory and run.
const hasUmoci = spawnSync("umoci", ["--version"]).status === 0;
if (!hasUmoci) process.stderr.write("skipped: umoci is not installed (apt-get install -y umoci)\n");

let engine: TestEngine;
let image: TestImage;
let source: ImageStore;
let archive: string;
const NAME = "test/whiteout:1";

describeRoot("save: umoci unpacks it, load runs it", () => {
  beforeAll(async () => {
    [engine, image] = await Promise.all([createTestEngine(), makeBusyboxLayout()]);
    // The layout's own tar, loaded into a first store: a gzip busybox layer and a whiteout layer.
    const layoutTar = path.join(image.work, "layout.tar");
    await runProgram("tar", ["-C", image.layout, "-cf", layoutTar, "."]);
    source = createImageStore(path.join(image.work, "source-state"));
    const [loaded] = await loadImages(source, createReadStream(layoutTar));
    await source.tag(loaded!.digest, NAME);
    archive = path.join(image.work, "saved.tar");
    await saveImages(source, [NAME], createWriteStream(archive));
  }, 120_000);
  afterAll(async () => {
    await engine?.cleanup();
    if (image) await rm(image.work, { recursive: true, force: true });
  }, 60_000);

  it.skipIf(!hasUmoci)(
    "umoci unpack --image DIR:TAG gives the image's files, whiteouts applied",
    async () => {
      const layout = path.join(image.work, "saved-layout");
      await mkdir(layout);
      await runProgram("tar", ["-C", layout, "-xf", archive]);
      const bundle = path.join(image.work, "bundle");
      await runProgram("umoci", ["unpack", "--image", `${layout}:${NAME}`, bundle], { timeoutMs: 60_000 });
      const rootfs = path.join(bundle, "rootfs");
      const busybox = await readFile(path.join(rootfs, "bin", "busybox"));
      expect(busybox.equals(await readFile(path.join(image.rootfs, "bin", "busybox")))).toBe(true);
      expect((await lstat(path.join(rootfs, "bin", "sh"))).isSymbolicLink()).toBe(true);
      expect(await readFile(path.join(rootfs, "etc", "motd"), "utf8")).toBe("pulled by berth\n");
      await expect(lstat(path.join(rootfs, "etc", "group"))).rejects.toMatchObject({ code: "ENOENT" });
      expect(await readFile(path.join(rootfs, "etc", "passwd"), "utf8")).toContain("root:x:0:0");
      const config = JSON.parse(await readFile(path.join(bundle, "config.json"), "utf8"));
      expect(config.process.args).toEqual(["/bin/sh", "-c", "echo $GREETING"]);
      expect(config.process.cwd).toBe("/root");
    },
  );

  it("save → load into a fresh state directory → the image runs with its whiteout", async () => {
    const [loaded] = await loadImages(createImageStore(engine.stateDir), createReadStream(archive));
    expect(loaded?.name).toBe(NAME);
    const probe = await engine.runtime.create(
      contractConfig(NAME, {
        command: ["sh", "-c", "pwd; echo $GREETING; cat /etc/motd; test -e /etc/group || echo no-group"],
      }),
    );
    await engine.runtime.start(probe.id);
    expect(await engine.runtime.wait(probe.id)).toBe(0);
    const lines: string[] = [];
    for await (const l of engine.runtime.logs(probe.id)) lines.push(l.line);
    expect(lines.join("\n")).toBe("/root\nhello\npulled by berth\nno-group");
  });
});
