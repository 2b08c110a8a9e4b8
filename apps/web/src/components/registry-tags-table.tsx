"use client";

import Link from "next/link";
import { formatSize } from "../lib/format.ts";
import type { RegistryTag } from "../lib/trpc.ts";
import { RegistryDigest } from "./registry-digest.tsx";
import { repositoryHref } from "./registry-repositories-table.tsx";
import { RelativeTime } from "./relative-time.tsx";

function kindOf(mediaType: string): string {
  if (mediaType.includes("index") || mediaType.includes("manifest.list")) return "index";
  return mediaType.includes("docker") ? "docker" : "oci";
}

/** A repository's tags; the selected one (by digest) is highlighted, and each links to its manifest. */
export function RegistryTagsTable({
  repository,
  tags,
  selected,
}: {
  repository: string;
  tags: RegistryTag[];
  selected: string | null;
}) {
  if (tags.length === 0) {
    return (
      <div className="panel panel-empty muted" data-testid="registry-no-tags">
        No tags: this repository only holds manifests pushed by digest.
      </div>
    );
  }
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="registry-tags">
        <thead>
          <tr>
            <th>Tag</th>
            <th>Digest</th>
            <th>Type</th>
            <th className="num">Size</th>
            <th>Pushed by</th>
            <th>Pushed</th>
          </tr>
        </thead>
        <tbody>
          {tags.map((t) => (
            <tr
              key={t.tag}
              data-testid="registry-tag-row"
              data-tag={t.tag}
              className={t.digest === selected ? "row-selected" : undefined}
              aria-selected={t.digest === selected}
            >
              <td>
                <Link
                  href={repositoryHref(repository, t.digest)}
                  className="strong-link mono"
                  data-testid="registry-tag-link"
                  scroll={false}
                >
                  {t.tag}
                </Link>
              </td>
              <td>
                <RegistryDigest digest={t.digest} testId="registry-tag-digest" />
              </td>
              <td>
                <span className="kind" title={t.mediaType}>
                  {kindOf(t.mediaType)}
                </span>
              </td>
              <td
                className="num"
                data-testid="registry-tag-size"
                title={t.imageSize === null ? "an index: see each platform" : `${t.imageSize} bytes`}
              >
                {t.imageSize === null ? <span className="muted">—</span> : formatSize(t.imageSize)}
              </td>
              <td data-testid="registry-tag-pushed-by">
                {t.pushedBy ?? <span className="muted">unknown</span>}
              </td>
              <td>
                <RelativeTime past value={t.pushedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
