import { describe, expect, it } from "vitest";
import { digestOf } from "../digest/digest.ts";
import { OciError } from "../errors.ts";
import { MediaType } from "./media-types.ts";
import { MAX_MANIFEST_BYTES, parseImageConfig, parseManifest } from "./parse.ts";

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const desc = (mediaType: string, data = "x") => ({ mediaType, digest: digestOf(data), size: data.length });

const ociManifest = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: desc(MediaType.OciConfig, "{}"),
  layers: [desc(MediaType.OciLayerGzip, "layer")],
  annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
};
const dockerManifest = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: desc(MediaType.DockerConfig, "{}"),
  layers: [desc(MediaType.DockerLayerGzip, "layer")],
};
const ociIndex = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [{ ...desc(MediaType.OciManifest), platform: { architecture: "amd64", os: "linux" } }],
};

function refusal(fn: () => unknown): OciError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).code).toBe("InvalidArgument");
    return err as OciError;
  }
  throw new Error("expected an OciError");
}

describe("parseManifest", () => {
  it("parses an OCI manifest by Content-Type (parameters ignored)", () => {
    const parsed = parseManifest(json(ociManifest), `${MediaType.OciManifest}; charset=utf-8`);
    expect(parsed.kind).toBe("manifest");
    expect(parsed.mediaType).toBe(MediaType.OciManifest);
    if (parsed.kind === "manifest") expect(parsed.manifest.layers).toHaveLength(1);
  });

  it("accepts Docker schema 2 manifests and manifest lists as equivalents", () => {
    expect(parseManifest(json(dockerManifest), MediaType.DockerManifest).kind).toBe("manifest");
    const list = { ...ociIndex, mediaType: MediaType.DockerManifestList };
    expect(parseManifest(json(list), MediaType.DockerManifestList).kind).toBe("index");
  });

  it("parses an index, and falls back to the body's mediaType or shape without a Content-Type", () => {
    const parsed = parseManifest(json(ociIndex));
    expect(parsed.kind).toBe("index");
    if (parsed.kind === "index") expect(parsed.index.manifests[0]!.platform?.architecture).toBe("amd64");
    const { mediaType: _m, ...bare } = ociIndex;
    expect(parseManifest(json(bare), "application/json").kind).toBe("index");
    const { mediaType: _n, ...bareManifest } = ociManifest;
    expect(parseManifest(json(bareManifest)).kind).toBe("manifest");
  });

  it("names schema 1 as unsupported", () => {
    const err = refusal(() =>
      parseManifest(
        json({ schemaVersion: 1, name: "x", fsLayers: [] }),
        MediaType.DockerSchema1SignedManifest,
      ),
    );
    expect(err.message).toMatch(/schema 1/);
    expect(refusal(() => parseManifest(json({ schemaVersion: 1 }))).message).toMatch(/schema 1/);
  });

  it("refuses an unknown media type, naming it", () => {
    const err = refusal(() => parseManifest(json(ociManifest), "application/vnd.example+json"));
    expect(err.message).toContain("application/vnd.example+json");
  });

  it("refuses a body whose mediaType contradicts the Content-Type", () => {
    refusal(() => parseManifest(json(ociManifest), MediaType.DockerManifest));
  });

  it("refuses invalid JSON, bad shapes and bad digests, naming the field", () => {
    refusal(() => parseManifest(Buffer.from("{nope"), MediaType.OciManifest));
    expect(refusal(() => parseManifest(json({ ...ociManifest, layers: "x" }))).message).toContain("layers");
    const badDigest = { ...ociManifest, config: { ...ociManifest.config, digest: "sha256:xyz" } };
    expect(refusal(() => parseManifest(json(badDigest))).message).toContain("config.digest");
    const negative = { ...ociManifest, config: { ...ociManifest.config, size: -1 } };
    expect(refusal(() => parseManifest(json(negative))).message).toContain("config.size");
  });

  it("refuses a manifest over 4 MiB", () => {
    const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
    expect(refusal(() => parseManifest(big, MediaType.OciManifest)).message).toMatch(/limit/);
  });
});

describe("parseImageConfig", () => {
  const config = {
    architecture: "amd64",
    os: "linux",
    config: {
      Env: ["PATH=/bin"],
      Cmd: ["/bin/sh"],
      Entrypoint: null,
      WorkingDir: "/srv",
      User: "1000:1000",
      ExposedPorts: { "8080/tcp": {} },
      Labels: { a: "b" },
      Volumes: { "/data": {} },
    },
    rootfs: { type: "layers", diff_ids: [digestOf("layer")] },
    history: [{ created_by: "COPY . /srv" }, { created_by: "CMD", empty_layer: true }],
  };

  it("parses the fields that matter", () => {
    const parsed = parseImageConfig(json(config));
    expect(parsed.config?.Cmd).toEqual(["/bin/sh"]);
    expect(parsed.config?.ExposedPorts).toEqual({ "8080/tcp": {} });
    expect(parsed.rootfs.diff_ids).toHaveLength(1);
    expect(parsed.history?.[1]?.empty_layer).toBe(true);
  });

  it("refuses a config without rootfs layers or with a bad diff_id", () => {
    refusal(() => parseImageConfig(json({ ...config, rootfs: { type: "tarball", diff_ids: [] } })));
    refusal(() => parseImageConfig(json({ ...config, rootfs: { type: "layers", diff_ids: ["nope"] } })));
    refusal(() => parseImageConfig(json({ ...config, os: undefined })));
  });
});
