import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { layerTar } from "@berth/oci";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRuntimeArtifact } from "./diff.ts";

let dir: string;

async function tarOf(root: string, exclude?: (rel: string) => boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of layerTar(root, exclude ? { exclude } : {})) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** GNU tar's verbose listing of an archive: "type mode owner size name[ -> target]". */
function listing(tar: Buffer): string[] {
  const result = spawnSync("tar", ["--list", "--verbose", "--numeric-owner", "--file", "-"], { input: tar });
  if (result.status !== 0) throw new Error(`tar --list failed: ${result.stderr}`);
  return result.stdout
    .toString()
    .trim()
    .split("\n")
    .map((line) => {
      const f = line.split(/\s+/);
      return [f[0], f[1], f.slice(5).join(" ")].join(" ");
    });
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-diff-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a build step's layer (layerTar with isRuntimeArtifact)", () => {
  it("leaves out the runtime's mount points and /etc files", async () => {
    const up = path.join(dir, "upper");
    await mkdir(path.join(up, "proc", "sub"), { recursive: true });
    await mkdir(path.join(up, "etc"), { recursive: true });
    await writeFile(path.join(up, "etc", "hosts"), "");
    await writeFile(path.join(up, "etc", "motd"), "hi");
    const names = listing(await tarOf(up, isRuntimeArtifact)).map((l) => l.split(" ").pop());
    expect(names).toEqual(["etc/", "etc/motd"]);
  });
});
