"use client";

import { useMemo } from "react";
import { diffLines, diffStats, foldUnchanged } from "../lib/line-diff.ts";

const SIGN = { same: " ", add: "+", del: "-" } as const;

/** Two YAML texts, line by line: removed lines red, added green, long unchanged runs folded. */
export function YamlDiff({ before, after }: { before: string; after: string }) {
  const { rows, stats } = useMemo(() => {
    const lines = diffLines(before, after);
    return { rows: foldUnchanged(lines), stats: diffStats(lines) };
  }, [before, after]);
  return (
    <div className="yaml-diff" data-testid="yaml-diff" data-added={stats.added} data-removed={stats.removed}>
      <div className="yaml-diff-stats">
        <span className="diff-added">+{stats.added}</span>{" "}
        <span className="diff-removed">−{stats.removed}</span>
      </div>
      <table>
        <tbody>
          {rows.map((r, i) =>
            r.kind === "skip" ? (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional and never reorder
              <tr key={i} className="diff-skip">
                <td colSpan={4}>
                  ⋯ {r.count} unchanged {r.count === 1 ? "line" : "lines"}
                </td>
              </tr>
            ) : (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional and never reorder
              <tr key={i} className={`diff-${r.kind}`} data-testid={`diff-${r.kind}`}>
                <td className="diff-no">{r.kind === "add" ? "" : r.oldNo}</td>
                <td className="diff-no">{r.kind === "del" ? "" : r.newNo}</td>
                <td className="diff-sign">{SIGN[r.kind]}</td>
                <td className="diff-text">{r.text}</td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}
