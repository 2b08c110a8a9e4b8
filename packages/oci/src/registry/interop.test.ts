// Real peers: skopeo (and podman) push to and pull from the registry handler over loopback.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  exec,
  layoutBlob,
  layoutManifestDigest,
  makeOciLayout,
  type OciLayout,
  requireProgram,
} from "./interop-support.ts";
import { sha256, startTestRegistry, type TestRegistry } from "./test-support.ts";

let reg: TestRegistry;
let layout: OciLayout;
let work: string;

beforeAll(async () => {
  await requireProgram("skopeo", "apt-get install -y skopeo");
  reg = await startTestRegistry();
  layout = await makeOciLayout();
  work = await mkdtemp(join(tmpdir(), "berth-interop-"));
}, 60_000);

afterAll(async () => {
  await reg?.close();
  if (layout) await rm(join(layout.dir, ".."), { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

describe("skopeo against the registry", () => {
  it("copies an OCI layout in, inspects it, and copies it back out with identical digests", async () => {
    const ref = `docker://${reg.host}/test/busybox:1`;
    await exec(["skopeo", "copy", "--dest-tls-verify=false", `oci:${layout.dir}:latest`, ref]);

    const inspect = JSON.parse(await exec(["skopeo", "inspect", "--tls-verify=false", ref])) as {
      Digest: string;
      Layers: string[];
    };
    expect(inspect.Digest).toBe(layout.manifestDigest);
    expect(inspect.Layers).toEqual(layout.blobDigests.slice(1));

    const raw = await exec(["skopeo", "inspect", "--raw", "--tls-verify=false", ref]);
    expect(sha256(raw)).toBe(layout.manifestDigest);

    const out = join(work, "out");
    await exec(["skopeo", "copy", "--src-tls-verify=false", ref, `oci:${out}:latest`]);
    expect(await layoutManifestDigest(out, "latest")).toBe(layout.manifestDigest);
    for (const digest of [layout.manifestDigest, ...layout.blobDigests]) {
      expect(sha256(await layoutBlob(out, digest))).toBe(digest);
      expect(await layoutBlob(out, digest)).toEqual(await layoutBlob(layout.dir, digest));
    }
  }, 120_000);

  it("copies between repositories of the registry and lists tags", async () => {
    const src = `docker://${reg.host}/test/busybox:1`;
    await exec(["skopeo", "copy", "--dest-tls-verify=false", `oci:${layout.dir}:latest`, src]);
    const dest = `docker://${reg.host}/other/copy:2`;
    await exec(["skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", src, dest]);
    const tags = JSON.parse(
      await exec(["skopeo", "list-tags", "--tls-verify=false", `docker://${reg.host}/other/copy`]),
    ) as { Tags: string[] };
    expect(tags.Tags).toEqual(["2"]);
    const mounts = reg.requests.filter((r) =>
      /^POST \/v2\/other\/copy\/blobs\/uploads\/\?.*mount=.* 201$/.test(r),
    );
    expect(mounts.length).toBeGreaterThan(0);
    const inspect = JSON.parse(await exec(["skopeo", "inspect", "--tls-verify=false", dest])) as {
      Digest: string;
    };
    expect(inspect.Digest).toBe(layout.manifestDigest);
  }, 120_000);

  it("converts to Docker schema 2 on push and serves it back", async () => {
    const ref = `docker://${reg.host}/test/docker-format:1`;
    await exec([
      "skopeo",
      "copy",
      "--dest-tls-verify=false",
      "--format=v2s2",
      `oci:${layout.dir}:latest`,
      ref,
    ]);
    const raw = JSON.parse(await exec(["skopeo", "inspect", "--raw", "--tls-verify=false", ref])) as {
      mediaType: string;
    };
    expect(raw.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const res = await fetch(`${reg.url}/v2/test/docker-format/manifests/1`);
    expect(res.headers.get("content-type")).toBe("application/vnd.docker.distribution.manifest.v2+json");
  }, 120_000);
});

describe("podman against the registry", () => {
  it("pushes an imported image and pulls it into fresh storage with the same image id", async () => {
    await requireProgram("podman", "apt-get install -y podman");
    const podman = (store: string, ...args: string[]) => [
      "podman",
      "--root",
      join(work, store, "root"),
      "--runroot",
      join(work, store, "run"),
      "--storage-driver",
      "vfs",
      "--runtime",
      "runc",
      ...args,
    ];
    const tarball = join(work, "rootfs.tar");
    await exec(["tar", "-C", join(layout.dir, ".."), "-cf", tarball, "l1"]);
    const imported = (await exec(podman("a", "import", tarball, "localhost/berth-test:1")))
      .trim()
      .split("\n")
      .pop()!;
    const remote = `${reg.host}/test/podman:1`;
    await exec(podman("a", "push", "--tls-verify=false", "localhost/berth-test:1", `docker://${remote}`));
    await exec(podman("b", "pull", "--tls-verify=false", remote));
    const pulled = JSON.parse(await exec(podman("b", "image", "inspect", remote))) as { Id: string }[];
    expect(`sha256:${pulled[0]!.Id}`).toBe(imported);
  }, 120_000);
});
