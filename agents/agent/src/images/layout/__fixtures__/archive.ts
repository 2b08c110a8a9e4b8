/** Image archives for tests, honest and hostile, made in memory. */
import { createHash } from "node:crypto";
import { END_OF_ARCHIVE, entryHeader, paddingBlock, type TarWriterType as TarType } from "@berth/oci";

export interface Member {
  name: string;
  data?: Buffer | string;
  type?: TarType;
  linkpath?: string;
}

export const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export function tarOf(members: Member[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const data = Buffer.from(m.data ?? "");
    const type = m.type ?? "file";
    const size = type === "file" ? data.length : 0;
    parts.push(
      entryHeader({
        path: m.name,
        type,
        size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        linkpath: m.linkpath ?? "",
      }),
    );
    if (size > 0) parts.push(data, paddingBlock(size));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

export interface LayoutOptions {
  /** Layer tars (uncompressed). */
  layers: Buffer[];
  /** Default: the layers' real digests. */
  diffIds?: string[];
  /** org.opencontainers.image.ref.name of the one index entry. */
  refName?: string;
  /** Members to add after the layout's own. */
  extra?: Member[];
}

/** An OCI layout archive with one image; `members` lets a test change any part before it is tarred. */
export function layoutMembers(o: LayoutOptions): Member[] {
  const blobs: Member[] = [];
  const blob = (data: Buffer) => {
    const digest = sha256(data);
    blobs.push({ name: `blobs/sha256/${digest.slice(7)}`, data });
    return { digest, size: data.length };
  };
  const layers = o.layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...blob(l) }));
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: process.arch === "arm64" ? "arm64" : "amd64",
        os: "linux",
        config: { Cmd: ["/bin/sh"] },
        rootfs: { type: "layers", diff_ids: o.diffIds ?? o.layers.map(sha256) },
      }),
    ),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers,
      }),
    ),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        ...(o.refName ? { annotations: { "org.opencontainers.image.ref.name": o.refName } } : {}),
      },
    ],
  };
  return [
    { name: "oci-layout", data: JSON.stringify({ imageLayoutVersion: "1.0.0" }) },
    ...blobs,
    { name: "index.json", data: JSON.stringify(index) },
    ...(o.extra ?? []),
  ];
}

export interface LegacyOptions {
  /** Layer tars (uncompressed); a layer equal to an earlier one becomes a symlink to it, as Docker writes it. */
  layers: Buffer[];
  repoTags?: string[] | null;
  /** Default: the layers' real digests. */
  diffIds?: string[];
  /** Members to add at the end. */
  extra?: Member[];
}

/** An archive in Docker's format from before Docker 25: `<id>/layer.tar`, `<config>.json`, manifest.json. */
export function legacyMembers(o: LegacyOptions): Member[] {
  const members: Member[] = [];
  const layerNames: string[] = [];
  const seen = new Map<string, string>();
  o.layers.forEach((layer, i) => {
    const id = sha256(Buffer.from(`v1 id ${i}`)).slice(7);
    const name = `${id}/layer.tar`;
    members.push({ name: `${id}/`, type: "directory" });
    members.push({ name: `${id}/VERSION`, data: "1.0" }, { name: `${id}/json`, data: `{"id":"${id}"}` });
    const earlier = seen.get(sha256(layer));
    members.push(earlier ? { name, type: "symlink", linkpath: `../${earlier}` } : { name, data: layer });
    if (!earlier) seen.set(sha256(layer), name);
    layerNames.push(name);
  });
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === "arm64" ? "arm64" : "amd64",
      os: "linux",
      config: { Cmd: ["/bin/sh"], Env: ["LEGACY=1"] },
      rootfs: { type: "layers", diff_ids: o.diffIds ?? o.layers.map(sha256) },
    }),
  );
  const configName = `${sha256(config).slice(7)}.json`;
  members.push({ name: configName, data: config });
  const manifest = [
    {
      Config: configName,
      RepoTags: o.repoTags === undefined ? ["legacy:1"] : o.repoTags,
      Layers: layerNames,
    },
  ];
  members.push({ name: "manifest.json", data: JSON.stringify(manifest) });
  members.push({ name: "repositories", data: "{}" });
  return [...members, ...(o.extra ?? [])];
}
