"use client";

import { formatDateTime, formatRelative, toDate } from "../lib/format.ts";
import { useNow } from "../lib/now.ts";

/** `12s ago`, ticking every second; the exact time on hover. */
export function RelativeTime({
  value,
  testId,
  past = false,
}: {
  value: Date | string | null | undefined;
  testId?: string;
  /** A moment that has happened (last seen, created): never shown as `in 2s` because of clock skew. */
  past?: boolean;
}) {
  const now = useNow();
  const d = toDate(value);
  if (!d) return <span className="muted">—</span>;
  return (
    <time dateTime={d.toISOString()} title={formatDateTime(d)} data-testid={testId}>
      {formatRelative(d, now, past)}
    </time>
  );
}
