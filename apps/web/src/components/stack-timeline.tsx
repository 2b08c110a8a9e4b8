"use client";

import { formatDateTime } from "../lib/format.ts";
import type { StackDetail } from "../lib/trpc.ts";
import { RelativeTime } from "./relative-time.tsx";

type StackEvent = StackDetail["events"][number];

function tone(kind: string): string {
  if (kind === "stack.remove" || kind.endsWith(".failed") || kind.endsWith(".lost")) return "bad";
  if (kind === "stack.rollback") return "warn";
  if (kind === "stack.deploy") return "ok";
  if (kind === "stack.scale") return "info";
  return "neutral";
}

/** What happened to the stack, newest first, as a vertical timeline. */
export function StackTimeline({ events }: { events: StackEvent[] }) {
  if (events.length === 0) return <div className="panel panel-empty muted">No events yet.</div>;
  return (
    <ol className="panel timeline" data-testid="stack-timeline">
      {events.map((e) => (
        <li
          key={e.id}
          className={`timeline-item timeline-${tone(e.kind)}`}
          data-testid="event-row"
          data-kind={e.kind}
        >
          <span className="timeline-dot" aria-hidden="true" />
          <div className="timeline-body">
            <div className="timeline-head">
              <span className="kind">{e.kind}</span>
              <span className="muted" title={formatDateTime(e.at)}>
                <RelativeTime past value={e.at} />
              </span>
            </div>
            <div>{e.message}</div>
          </div>
        </li>
      ))}
    </ol>
  );
}
