"use client";

import Link from "next/link";
import type { RegistryRepository } from "../lib/trpc.ts";
import { RelativeTime } from "./relative-time.tsx";

/** The link to a repository's page; its name's slashes stay path segments. */
export function repositoryHref(name: string, digest?: string): string {
  const path = `/registry/${name.split("/").map(encodeURIComponent).join("/")}`;
  return digest ? `${path}?digest=${encodeURIComponent(digest)}` : path;
}

export function RegistryRepositoriesTable({ repositories }: { repositories: RegistryRepository[] }) {
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="registry-repositories">
        <thead>
          <tr>
            <th>Repository</th>
            <th>Team</th>
            <th className="num">Tags</th>
            <th>Last push</th>
            <th>Pushed by</th>
          </tr>
        </thead>
        <tbody>
          {repositories.map((r) => (
            <tr key={r.name} data-testid="registry-repository-row" data-repository={r.name}>
              <td>
                <Link href={repositoryHref(r.name)} className="strong-link mono">
                  {r.name}
                </Link>
              </td>
              <td data-testid="registry-team">
                {r.team ? (
                  r.team.name
                ) : (
                  <span
                    className="muted"
                    title="no team owns this namespace: every user may pull, fleet admins push"
                  >
                    shared
                  </span>
                )}
              </td>
              <td className="num" data-testid="registry-tag-count">
                {r.tagCount}
              </td>
              <td>
                <RelativeTime past value={r.lastPushedAt} />
              </td>
              <td data-testid="registry-last-pushed-by">
                {r.lastPushedBy ?? <span className="muted">unknown</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
