import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BlobStore } from "./blob-store.ts";
import { createFsBlobStore } from "./fs-blob-store.ts";
import { sha256 } from "./test-support.ts";

let root: string;
let store: BlobStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-blobstore-"));
  store = createFsBlobStore({ root });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function text(stream: Readable | undefined): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream!) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/** A body that yields `data` and then fails, like a client that disconnects mid-chunk. */
function brokenBody(data: string): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.from(data);
      throw new Error("client went away");
    })(),
  );
}

describe("filesystem blob store", () => {
  it("stores content-addressed, reads ranges, lists and deletes", async () => {
    const digest = sha256("0123456789");
    const info = await store.put(digest, Buffer.from("0123456789"));
    expect(info.size).toBe(10);
    expect(await readdir(join(root, "blobs", "sha256", digest.slice(7, 9)))).toEqual([digest.slice(7)]);
    expect(await text(await store.get(digest, { start: 3, end: 4 }))).toBe("34");
    const listed = [];
    for await (const blob of store.list()) listed.push(blob.digest);
    expect(listed).toEqual([digest]);
    expect(await store.delete(digest)).toBe(true);
    expect(await store.get(digest)).toBeUndefined();
    expect(await store.delete(digest)).toBe(false);
  });

  it("refuses malformed digests before touching the filesystem", async () => {
    await expect(store.stat("sha256:../../etc/passwd")).rejects.toMatchObject({ code: "DIGEST_INVALID" });
    await expect(store.put("md5:abc", Buffer.from("x"))).rejects.toMatchObject({ code: "DIGEST_INVALID" });
  });

  it("bounds a put with maxBytes and leaves no temp file", async () => {
    const data = Buffer.alloc(1000);
    await expect(store.put(sha256(data), data, { maxBytes: 10 })).rejects.toMatchObject({
      code: "SIZE_INVALID",
    });
    expect(await readdir(join(root, "tmp"))).toEqual([]);
    expect(await store.exists(sha256(data))).toBe(false);
  });

  it("keeps the bytes of an interrupted chunk and re-hashes them at completion", async () => {
    const upload = await store.startUpload("test/app");
    await store.appendUpload(upload.id, Readable.from([Buffer.from("abc")]));
    await expect(store.appendUpload(upload.id, brokenBody("def"))).rejects.toThrow("client went away");
    // Whatever reached the disk counts; the client resumes from the offset the store reports.
    const offset = (await store.getUpload(upload.id))!.offset;
    expect(offset).toBeGreaterThanOrEqual(3);
    expect(offset).toBeLessThanOrEqual(6);
    await expect(store.appendUpload(upload.id, Readable.from([Buffer.from("x")]), 2)).rejects.toMatchObject({
      code: "RANGE_INVALID",
    });
    const rest = Buffer.from("abcdefghi".slice(offset));
    await store.appendUpload(upload.id, Readable.from([rest]), offset);
    const blob = await store.completeUpload(upload.id, sha256("abcdefghi"));
    expect(blob.size).toBe(9);
    expect(await text(await store.get(blob.digest))).toBe("abcdefghi");
    expect(await store.getUpload(upload.id)).toBeUndefined();
  });

  it("lists and cancels uploads; unknown ids are refused", async () => {
    const upload = await store.startUpload("test/app");
    const ids = [];
    for await (const u of store.listUploads()) ids.push(u.id);
    expect(ids).toEqual([upload.id]);
    expect(await store.cancelUpload(upload.id)).toBe(true);
    expect(await store.cancelUpload(upload.id)).toBe(false);
    await expect(store.appendUpload(upload.id, Readable.from([]))).rejects.toMatchObject({
      code: "BLOB_UPLOAD_UNKNOWN",
    });
    expect(await store.getUpload("../../etc")).toBeUndefined();
  });

  it("serialises concurrent chunks of one upload", async () => {
    const upload = await store.startUpload("test/app");
    await Promise.all(
      ["aa", "bb", "cc"].map((chunk) => store.appendUpload(upload.id, Readable.from([Buffer.from(chunk)]))),
    );
    expect((await store.getUpload(upload.id))?.offset).toBe(6);
    const all = await store.completeUpload(upload.id, sha256("aabbcc"));
    expect(all.size).toBe(6);
  });
});
