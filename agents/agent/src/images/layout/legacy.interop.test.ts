import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runProgram } from "../../exec.ts";
import { requirePeer } from "../pull/interop-support.ts";
import { createImageStore, type ImageStore } from "../store.ts";
import { loadImages } from "./load.ts";
import { saveImages } from "./save.ts";

let work: string;
let store: ImageStore;

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "berth-legacy-"));
  store = createImageStore(path.join(work, "state"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("Docker's archive format from before Docker 25, as skopeo writes it", { timeout: 60_000 }, () => {
  it("berth-agent save → skopeo copy to docker-archive → load: same layers, config and files", async () => {
    await requirePeer("skopeo", ["--version"], "apt-get install -y skopeo");
    const tree = path.join(work, "tree");
    await mkdir(path.join(tree, "etc"), { recursive: true });
    await writeFile(path.join(tree, "etc", "motd"), "from skopeo\n");
    await store.importDirectory(tree, { name: "tools:1", cmd: ["/bin/true"], env: { A: "b" } });
    const oci = path.join(work, "oci.tar");
    await saveImages(store, ["tools:1"], createWriteStream(oci));
    const legacy = path.join(work, "docker.tar");
    await runProgram("skopeo", [
      "copy",
      "--quiet",
      `oci-archive:${oci}:tools:1`,
      `docker-archive:${legacy}:old/tools:2`,
    ]);
    // skopeo wrote the old format: manifest.json and no oci-layout.
    const listing = await runProgram("tar", ["-tf", legacy]);
    expect(listing).toMatch(/^manifest\.json$/m);
    expect(listing).not.toMatch(/oci-layout/);

    const other = createImageStore(path.join(work, "other"));
    const loaded = await loadImages(other, createReadStream(legacy));
    expect(loaded).toEqual([{ name: "old/tools:2", digest: expect.stringMatching(/^sha256:/) }]);
    // The same layers as the OCI archive skopeo read (save writes the layers it tars, with their diff IDs).
    const viaOci = createImageStore(path.join(work, "via-oci"));
    await loadImages(viaOci, createReadStream(oci));
    const copy = await other.inspect("old/tools:2");
    expect(copy.layers).toEqual((await viaOci.inspect("tools:1")).layers);
    expect(copy.config.cmd).toEqual(["/bin/true"]);
    const { layerDirs } = await other.resolve("old/tools:2");
    expect(await readFile(path.join(layerDirs[0]!, "etc", "motd"), "utf8")).toBe("from skopeo\n");
  });
});
