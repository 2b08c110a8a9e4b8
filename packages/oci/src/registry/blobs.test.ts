import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsBlobStore } from "./fs-blob-store.ts";
import { errorCode, pushBlob, sha256, startTestRegistry, type TestRegistry } from "./test-support.ts";

let reg: TestRegistry;
beforeEach(async () => {
  reg = await startTestRegistry();
});
afterEach(async () => {
  await reg.close();
});

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(join(reg.root, dir), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

describe("registry blobs", () => {
  it("answers the API root with the version header", async () => {
    const res = await fetch(`${reg.url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    expect(await res.json()).toEqual({});
  });

  it("stores a monolithic upload and serves it by HEAD and GET", async () => {
    const data = Buffer.from("hello, registry");
    const digest = await pushBlob(reg.url, "test/app", data);
    const head = await fetch(`${reg.url}/v2/test/app/blobs/${digest}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(data.length));
    expect(head.headers.get("docker-content-digest")).toBe(digest);
    const get = await fetch(`${reg.url}/v2/test/app/blobs/${digest}`);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(data);
    expect(await filesUnder(join("blobs", "sha256"))).toEqual([digest.slice(7)]);
  });

  it("refuses a wrong digest and stores nothing", async () => {
    const wrong = sha256("something else");
    const res = await fetch(`${reg.url}/v2/test/app/blobs/uploads/?digest=${wrong}`, {
      method: "POST",
      body: Buffer.from("actual content"),
    });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
    expect(await filesUnder("blobs")).toEqual([]);
    expect(await filesUnder("tmp")).toEqual([]);
    const get = await fetch(`${reg.url}/v2/test/app/blobs/${wrong}`);
    expect(await errorCode(get)).toBe("BLOB_UNKNOWN");
  });

  it("takes a chunked upload, reports progress and refuses an out-of-order chunk", async () => {
    const data = Buffer.from("0123456789abcdefghij");
    const digest = sha256(data);
    const start = await fetch(`${reg.url}/v2/test/app/blobs/uploads/`, { method: "POST" });
    expect(start.status).toBe(202);
    expect(start.headers.get("range")).toBe("0-0");
    const location = start.headers.get("location")!;
    expect(start.headers.get("docker-upload-uuid")).toBeTruthy();
    const chunk = (from: number, to: number) =>
      fetch(`${reg.url}${location}`, {
        method: "PATCH",
        headers: { "Content-Range": `${from}-${to - 1}`, "Content-Type": "application/octet-stream" },
        body: data.subarray(from, to),
      });
    expect((await chunk(0, 8)).headers.get("range")).toBe("0-7");
    const outOfOrder = await chunk(12, 20);
    expect(outOfOrder.status).toBe(416);
    expect(outOfOrder.headers.get("range")).toBe("0-7");
    expect((await chunk(8, 14)).status).toBe(202);
    const status = await fetch(`${reg.url}${location}`);
    expect(status.status).toBe(204);
    expect(status.headers.get("range")).toBe("0-13");
    const done = await fetch(`${reg.url}${location}?digest=${digest}`, {
      method: "PUT",
      body: data.subarray(14),
    });
    expect(done.status).toBe(201);
    expect(done.headers.get("location")).toBe(`/v2/test/app/blobs/${digest}`);
    const get = await fetch(`${reg.url}/v2/test/app/blobs/${digest}`);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(data);
    expect(await filesUnder("uploads")).toEqual([]);
  });

  it("takes a streamed PATCH without Content-Range and a PUT without body", async () => {
    const data = Buffer.alloc(300_000, 7);
    const start = await fetch(`${reg.url}/v2/a/b/c/blobs/uploads/`, { method: "POST" });
    const location = start.headers.get("location")!;
    const patch = await fetch(`${reg.url}${location}`, { method: "PATCH", body: data });
    expect(patch.headers.get("range")).toBe(`0-${data.length - 1}`);
    const done = await fetch(`${reg.url}${location}?digest=${sha256(data)}`, { method: "PUT" });
    expect(done.status).toBe(201);
  });

  it("re-hashes an upload from disk after a restart and refuses a wrong digest at completion", async () => {
    const start = await fetch(`${reg.url}/v2/test/app/blobs/uploads/`, { method: "POST" });
    const location = start.headers.get("location")!;
    await fetch(`${reg.url}${location}`, { method: "PATCH", body: Buffer.from("abc") });
    const restarted = createFsBlobStore({ root: reg.root });
    const id = location.split("/").pop()!;
    await expect(restarted.completeUpload(id, sha256("abd"))).rejects.toMatchObject({
      code: "DIGEST_INVALID",
    });
    expect(await filesUnder("uploads")).toEqual([]);
    expect(await filesUnder("blobs")).toEqual([]);
    const again = await restarted.startUpload("test/app");
    await restarted.appendUpload(again.id, Readable.from([Buffer.from("abc")]));
    const fresh = createFsBlobStore({ root: reg.root });
    expect((await fresh.completeUpload(again.id, sha256("abc"))).size).toBe(3);
  });

  it("cancels an upload and rejects unknown upload ids", async () => {
    const start = await fetch(`${reg.url}/v2/test/app/blobs/uploads/`, { method: "POST" });
    const location = start.headers.get("location")!;
    expect((await fetch(`${reg.url}${location}`, { method: "DELETE" })).status).toBe(204);
    const gone = await fetch(`${reg.url}${location}`);
    expect(gone.status).toBe(404);
    expect(await errorCode(gone)).toBe("BLOB_UPLOAD_UNKNOWN");
    const traversal = await fetch(`${reg.url}/v2/test/app/blobs/uploads/..%2F..%2Fetc`, { method: "PATCH" });
    expect(await errorCode(traversal)).toBe("BLOB_UPLOAD_UNKNOWN");
  });

  it("serves byte ranges with 206 and refuses unsatisfiable ones with 416", async () => {
    const data = Buffer.from("0123456789");
    const digest = await pushBlob(reg.url, "test/app", data);
    const url = `${reg.url}/v2/test/app/blobs/${digest}`;
    const part = await fetch(url, { headers: { Range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(await part.text()).toBe("2345");
    const suffix = await fetch(url, { headers: { Range: "bytes=-3" } });
    expect(await suffix.text()).toBe("789");
    const open = await fetch(url, { headers: { Range: "bytes=7-" } });
    expect(await open.text()).toBe("789");
    const bad = await fetch(url, { headers: { Range: "bytes=10-12" } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get("content-range")).toBe("bytes */10");
  });

  it("mounts a blob from a repository that has it, else starts an upload", async () => {
    const digest = await pushBlob(reg.url, "source/repo", Buffer.from("shared layer"));
    const mount = await fetch(`${reg.url}/v2/target/repo/blobs/uploads/?mount=${digest}&from=source/repo`, {
      method: "POST",
    });
    expect(mount.status).toBe(201);
    expect(mount.headers.get("location")).toBe(`/v2/target/repo/blobs/${digest}`);
    expect((await fetch(`${reg.url}/v2/target/repo/blobs/${digest}`, { method: "HEAD" })).status).toBe(200);
    const fallback = await fetch(`${reg.url}/v2/other/blobs/uploads/?mount=${digest}&from=nowhere`, {
      method: "POST",
    });
    expect(fallback.status).toBe(202);
    expect(fallback.headers.get("location")).toMatch(/^\/v2\/other\/blobs\/uploads\//);
  });

  it("keeps blobs private to the repositories that uploaded or mounted them, and deletes links", async () => {
    const digest = await pushBlob(reg.url, "team/a", Buffer.from("private"));
    expect((await fetch(`${reg.url}/v2/team/b/blobs/${digest}`, { method: "HEAD" })).status).toBe(404);
    expect((await fetch(`${reg.url}/v2/team/a/blobs/${digest}`, { method: "DELETE" })).status).toBe(202);
    expect((await fetch(`${reg.url}/v2/team/a/blobs/${digest}`, { method: "HEAD" })).status).toBe(404);
  });

  it("answers bad names, bad digests and unknown routes with error bodies", async () => {
    const badName = await fetch(`${reg.url}/v2/Bad_Name/blobs/${sha256("x")}`);
    expect(badName.status).toBe(400);
    expect(await errorCode(badName)).toBe("NAME_INVALID");
    const badDigest = await fetch(`${reg.url}/v2/ok/blobs/sha256:nothex`);
    expect(await errorCode(badDigest)).toBe("DIGEST_INVALID");
    const unknown = await fetch(`${reg.url}/v2/ok/nothing/here`);
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe("NAME_UNKNOWN");
    const method = await fetch(`${reg.url}/v2/ok/tags/list`, { method: "POST" });
    expect(method.status).toBe(405);
  });
});
