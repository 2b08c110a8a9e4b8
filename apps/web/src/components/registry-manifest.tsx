"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { currentHost, formatDateTime, formatSize } from "../lib/format.ts";
import type { RegistryManifest } from "../lib/trpc.ts";
import { RegistryDigest } from "./registry-digest.tsx";
import { repositoryHref } from "./registry-repositories-table.tsx";
import { RelativeTime } from "./relative-time.tsx";

type Platform = { os: string; architecture: string; variant: string | null } | null;

function platformLabel(p: Platform): string {
  if (!p) return "—";
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

function Field({
  label,
  children,
  testId,
  wide,
}: {
  label: string;
  children: ReactNode;
  testId?: string;
  wide?: boolean;
}) {
  return (
    <div className={wide ? "field field-wide" : "field"}>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

function Layers({ manifest }: { manifest: Extract<RegistryManifest, { kind: "manifest" }> }) {
  if (manifest.layers.length === 0) return <div className="panel panel-empty muted">No layers.</div>;
  // The same layer may appear twice in one image: key by digest and occurrence.
  const seen = new Map<string, number>();
  const rows = manifest.layers.map((layer, i) => {
    const n = (seen.get(layer.digest) ?? 0) + 1;
    seen.set(layer.digest, n);
    return { layer, position: i + 1, key: `${layer.digest}#${n}` };
  });
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="registry-layers">
        <thead>
          <tr>
            <th className="num">#</th>
            <th>Digest</th>
            <th>Media type</th>
            <th className="num">Size</th>
            <th>Created by</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ layer: l, position, key }) => (
            <tr key={key} data-testid="registry-layer-row" data-digest={l.digest}>
              <td className="num muted">{position}</td>
              <td>
                <RegistryDigest digest={l.digest} />
              </td>
              <td className="mono muted">{l.mediaType}</td>
              <td className="num" data-testid="registry-layer-size" title={`${l.size} bytes`}>
                {formatSize(l.size)}
              </td>
              <td className="mono truncate wide" title={l.createdBy ?? undefined}>
                {l.createdBy ?? <span className="muted">—</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Platforms({ manifest }: { manifest: Extract<RegistryManifest, { kind: "index" }> }) {
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="registry-platforms">
        <thead>
          <tr>
            <th>Platform</th>
            <th>Digest</th>
            <th>Media type</th>
            <th className="num">Manifest</th>
          </tr>
        </thead>
        <tbody>
          {manifest.manifests.map((c) => (
            <tr key={c.digest} data-testid="registry-platform-row" data-digest={c.digest}>
              <td>
                <Link
                  href={repositoryHref(manifest.repository, c.digest)}
                  className="strong-link"
                  scroll={false}
                >
                  {platformLabel(c.platform)}
                </Link>
              </td>
              <td>
                <RegistryDigest digest={c.digest} />
              </td>
              <td className="mono muted">{c.mediaType}</td>
              <td className="num">{formatSize(c.size)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One manifest of a repository: what it is, who pushed it, and its layers (or an index's platforms). */
export function RegistryManifestDetail({ manifest }: { manifest: RegistryManifest }) {
  const ref = manifest.tags[0] ? `:${manifest.tags[0]}` : `@${manifest.digest}`;
  const insecure = typeof window !== "undefined" && window.location.protocol === "http:";
  const pull = `podman pull${insecure ? " --tls-verify=false" : ""} ${currentHost()}/${manifest.repository}${ref}`;
  return (
    <section
      className="stack"
      data-testid="registry-manifest"
      data-digest={manifest.digest}
      data-kind={manifest.kind}
    >
      <div className="panel">
        <div className="panel-head">
          <h2>
            {manifest.kind === "index" ? "Index" : "Manifest"}{" "}
            {manifest.tags.length > 0 && (
              <span className="muted mono">{manifest.tags.map((t) => `:${t}`).join(" ")}</span>
            )}
          </h2>
          <RegistryDigest digest={manifest.digest} testId="registry-manifest-digest" />
        </div>
        <dl className="facts">
          {manifest.kind === "manifest" && (
            <Field label="Platform" testId="registry-platform">
              {platformLabel(manifest.platform)}
            </Field>
          )}
          <Field label={manifest.kind === "index" ? "Platforms" : "Layers"}>
            {manifest.kind === "index" ? manifest.manifests.length : manifest.layers.length}
          </Field>
          <Field label={manifest.kind === "index" ? "Manifests" : "Image size"} testId="registry-total-size">
            {formatSize(manifest.totalSize)}
          </Field>
          {manifest.kind === "manifest" && (
            <Field label="Config" testId="registry-config-digest">
              <RegistryDigest digest={manifest.config.digest} />{" "}
              <span className="muted">{formatSize(manifest.config.size)}</span>
            </Field>
          )}
          {manifest.kind === "manifest" && (
            <Field label="Created">{manifest.created ? formatDateTime(manifest.created) : "—"}</Field>
          )}
          <Field label="Pushed" testId="registry-manifest-pushed">
            {manifest.pushedBy ?? <span className="muted">unknown</span>} ·{" "}
            <RelativeTime past value={manifest.pushedAt} />
          </Field>
          <Field label="Media type" wide>
            <span className="mono">{manifest.mediaType}</span>
          </Field>
        </dl>
        <pre className="code pull-command" data-testid="registry-pull-command">
          {pull}
        </pre>
      </div>
      {manifest.kind === "manifest" ? <Layers manifest={manifest} /> : <Platforms manifest={manifest} />}
    </section>
  );
}
