import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectGarbage } from "./gc.ts";
import { pushBlob, pushImage, sha256, startTestRegistry, type TestRegistry } from "./test-support.ts";

let reg: TestRegistry;
beforeEach(async () => {
  reg = await startTestRegistry();
});
afterEach(async () => {
  await reg.close();
});

describe("collectGarbage", () => {
  it("deletes unreferenced blobs and old uploads, never a referenced blob", async () => {
    const kept = await pushImage(reg.url, "app", "v1", "kept");
    const dropped = await pushImage(reg.url, "app", "v2", "dropped");
    const loose = await pushBlob(reg.url, "app", Buffer.from("never in a manifest"));
    await fetch(`${reg.url}/v2/app/manifests/${dropped}`, { method: "DELETE" });
    await fetch(`${reg.url}/v2/app/blobs/uploads/`, { method: "POST" });

    const fresh = await collectGarbage({ blobs: reg.blobs, metadata: reg.metadata });
    expect(fresh).toMatchObject({ blobsDeleted: 0, uploadsDeleted: 0 });

    const report = await collectGarbage({
      blobs: reg.blobs,
      metadata: reg.metadata,
      blobGraceMs: 0,
      uploadMaxAgeMs: 0,
      now: new Date(Date.now() + 1000),
    });
    // dropped: its manifest, config and layer; loose: one blob.
    expect(report).toMatchObject({ blobsDeleted: 4, blobsKept: 3, uploadsDeleted: 1 });
    expect(await reg.blobs.exists(loose)).toBe(false);
    expect(await reg.blobs.exists(dropped)).toBe(false);
    expect(await reg.blobs.exists(kept)).toBe(true);
    const manifest = await reg.metadata.getManifest("app", kept);
    for (const digest of manifest!.blobs) expect(await reg.blobs.exists(digest)).toBe(true);
    expect((await fetch(`${reg.url}/v2/app/manifests/v1`)).status).toBe(200);
    expect(await reg.metadata.hasBlob("app", loose)).toBe(false);
  });

  it("keeps the children of an index and what they reference", async () => {
    const child = await pushImage(reg.url, "multi", "only-child", "c");
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: child, size: 1 }],
      }),
    );
    await fetch(`${reg.url}/v2/multi/manifests/latest`, {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" },
      body: index,
    });
    await fetch(`${reg.url}/v2/multi/manifests/only-child`, { method: "DELETE" });
    const report = await collectGarbage({
      blobs: reg.blobs,
      metadata: reg.metadata,
      blobGraceMs: 0,
      now: new Date(Date.now() + 1000),
    });
    expect(report.blobsDeleted).toBe(0);
    expect(await reg.blobs.exists(sha256(index))).toBe(true);
    expect((await fetch(`${reg.url}/v2/multi/manifests/${child}`)).status).toBe(200);
  });
});
