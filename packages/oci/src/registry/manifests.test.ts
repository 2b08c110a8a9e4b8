import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RegistryError } from "./errors.ts";
import {
  errorCode,
  imageManifest,
  pushBlob,
  pushImage,
  putManifest,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "./test-support.ts";

let reg: TestRegistry;
beforeEach(async () => {
  reg = await startTestRegistry();
});
afterEach(async () => {
  await reg.close();
});

describe("registry manifests", () => {
  it("round-trips a manifest by tag and by digest", async () => {
    const config = Buffer.from("{}");
    const layer = Buffer.from("layer");
    await pushBlob(reg.url, "test/app", config);
    await pushBlob(reg.url, "test/app", layer);
    const manifest = imageManifest(config, [layer]);
    const put = await putManifest(reg.url, "test/app", "v1", manifest);
    expect(put.status).toBe(201);
    const digest = sha256(manifest);
    expect(put.headers.get("docker-content-digest")).toBe(digest);
    for (const reference of ["v1", digest]) {
      const get = await fetch(`${reg.url}/v2/test/app/manifests/${reference}`);
      expect(get.status).toBe(200);
      expect(get.headers.get("content-type")).toBe("application/vnd.oci.image.manifest.v1+json");
      expect(get.headers.get("docker-content-digest")).toBe(digest);
      expect(Buffer.from(await get.arrayBuffer())).toEqual(manifest);
    }
    const head = await fetch(`${reg.url}/v2/test/app/manifests/v1`, { method: "HEAD" });
    expect(head.headers.get("content-length")).toBe(String(manifest.length));
  });

  it("refuses a manifest whose blobs are unknown to the repository", async () => {
    const config = Buffer.from("{}");
    await pushBlob(reg.url, "elsewhere", config);
    const res = await putManifest(reg.url, "test/app", "v1", imageManifest(config, [Buffer.from("missing")]));
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("MANIFEST_BLOB_UNKNOWN");
    expect(await reg.metadata.listRepositories({})).not.toContain("test/app");
  });

  it("accepts an index whose children exist, refuses one whose children do not", async () => {
    const child = await pushImage(reg.url, "multi", "amd64", "a");
    const index = (digests: string[]) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: digests.map((digest) => ({
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest,
            size: 1,
          })),
        }),
      );
    const put = (body: Buffer) =>
      fetch(`${reg.url}/v2/multi/manifests/latest`, {
        method: "PUT",
        headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" },
        body,
      });
    expect((await put(index([child]))).status).toBe(201);
    const missing = await put(index([child, sha256("nope")]));
    expect(await errorCode(missing)).toBe("MANIFEST_BLOB_UNKNOWN");
    const get = await fetch(`${reg.url}/v2/multi/manifests/latest`);
    expect(get.headers.get("content-type")).toBe("application/vnd.oci.image.index.v1+json");
  });

  it("checks a digest reference against the body, refuses schema 1 and invalid bodies", async () => {
    const config = Buffer.from("{}");
    await pushBlob(reg.url, "test/app", config);
    const manifest = imageManifest(config, []);
    const mismatch = await putManifest(reg.url, "test/app", sha256("other"), manifest);
    expect(await errorCode(mismatch)).toBe("DIGEST_INVALID");
    expect((await putManifest(reg.url, "test/app", sha256(manifest), manifest)).status).toBe(201);
    const schema1 = await fetch(`${reg.url}/v2/test/app/manifests/old`, {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws" },
      body: JSON.stringify({ schemaVersion: 1, name: "test/app", tag: "old", fsLayers: [] }),
    });
    expect(await errorCode(schema1)).toBe("UNSUPPORTED");
    expect(await errorCode(await putManifest(reg.url, "test/app", "bad", Buffer.from("{not json")))).toBe(
      "MANIFEST_INVALID",
    );
  });

  it("refuses a manifest larger than maxManifestBytes", async () => {
    const small = await startTestRegistry({ maxManifestBytes: 100 });
    try {
      const res = await putManifest(small.url, "test/app", "v1", Buffer.alloc(200, 32));
      expect(res.status).toBe(413);
      expect(await errorCode(res)).toBe("SIZE_INVALID");
    } finally {
      await small.close();
    }
  });

  it("deletes a tag, then the manifest by digest", async () => {
    const digest = await pushImage(reg.url, "test/app", "v1", "x");
    await pushImage(reg.url, "test/app", "v2", "x");
    expect((await fetch(`${reg.url}/v2/test/app/manifests/v1`, { method: "DELETE" })).status).toBe(202);
    expect((await fetch(`${reg.url}/v2/test/app/manifests/v1`)).status).toBe(404);
    expect((await fetch(`${reg.url}/v2/test/app/manifests/${digest}`)).status).toBe(200);
    expect((await fetch(`${reg.url}/v2/test/app/manifests/${digest}`, { method: "DELETE" })).status).toBe(
      202,
    );
    const gone = await fetch(`${reg.url}/v2/test/app/manifests/v2`);
    expect(await errorCode(gone)).toBe("MANIFEST_UNKNOWN");
  });

  it("paginates tags and the catalog with Link headers", async () => {
    for (const tag of ["c", "a", "b", "d"]) await pushImage(reg.url, "paged", tag, tag);
    const first = await fetch(`${reg.url}/v2/paged/tags/list?n=3`);
    expect(await first.json()).toEqual({ name: "paged", tags: ["a", "b", "c"] });
    expect(first.headers.get("link")).toBe('</v2/paged/tags/list?n=3&last=c>; rel="next"');
    const second = await fetch(`${reg.url}/v2/paged/tags/list?n=3&last=c`);
    expect(await second.json()).toEqual({ name: "paged", tags: ["d"] });
    expect(second.headers.get("link")).toBeNull();
    expect(await errorCode(await fetch(`${reg.url}/v2/nothing/tags/list`))).toBe("NAME_UNKNOWN");
    expect(await errorCode(await fetch(`${reg.url}/v2/paged/tags/list?n=-1`))).toBe(
      "PAGINATION_NUMBER_INVALID",
    );
    expect(await (await fetch(`${reg.url}/v2/paged/tags/list?n=0`)).json()).toEqual({
      name: "paged",
      tags: [],
    });

    await pushImage(reg.url, "x/one", "1", "1");
    await pushImage(reg.url, "x/two", "1", "2");
    const catalog = await fetch(`${reg.url}/v2/_catalog?n=2`);
    expect(await catalog.json()).toEqual({ repositories: ["paged", "x/one"] });
    expect(catalog.headers.get("link")).toBe('</v2/_catalog?n=2&last=x%2Fone>; rel="next"');
    const rest = await fetch(`${reg.url}/v2/_catalog?n=2&last=x%2Fone`);
    expect(await rest.json()).toEqual({ repositories: ["x/two"] });
  });

  it("asks authorize for each request's repository and action", async () => {
    const seen: string[] = [];
    const guarded = await startTestRegistry({
      async authorize(_req, access) {
        seen.push(`${access.repository}:${access.action}`);
        if (access.action === "pull" && access.repository === "secret") {
          throw new RegistryError("DENIED", "no pull from secret");
        }
        if (access.action === "push" && access.repository === "locked") {
          throw new RegistryError("DENIED", "no push to locked");
        }
        if (access.repository === null && access.action === "pull") {
          throw new RegistryError("UNAUTHORIZED", "log in", {
            headers: { "WWW-Authenticate": 'Basic realm="berth"' },
          });
        }
      },
    });
    try {
      const root = await fetch(`${guarded.url}/v2/`);
      expect(root.status).toBe(401);
      expect(root.headers.get("www-authenticate")).toBe('Basic realm="berth"');
      const denied = await fetch(`${guarded.url}/v2/locked/blobs/uploads/`, { method: "POST" });
      expect(denied.status).toBe(403);
      expect(await errorCode(denied)).toBe("DENIED");
      await fetch(`${guarded.url}/v2/_catalog`);
      expect(seen).toEqual(["null:pull", "locked:push", "null:catalog"]);
      // A mount from a repository the caller may not read falls back to an upload.
      const digest = await pushBlob(guarded.url, "secret", Buffer.from("classified"));
      const mount = await fetch(`${guarded.url}/v2/mine/blobs/uploads/?mount=${digest}&from=secret`, {
        method: "POST",
      });
      expect(mount.status).toBe(202);
      expect(await guarded.metadata.hasBlob("mine", digest)).toBe(false);
      expect((await fetch(`${guarded.url}/v2/secret/blobs/${digest}`)).status).toBe(403);
    } finally {
      await guarded.close();
    }
  });
});
