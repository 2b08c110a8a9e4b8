"use client";

import Link from "next/link";
import type { FleetEvent } from "../lib/trpc.ts";
import { RelativeTime } from "./relative-time.tsx";

function kindTone(kind: string): string {
  if (kind.endsWith(".down") || kind.endsWith(".failed") || kind.endsWith(".lost")) return "bad";
  if (kind.endsWith(".ready") || kind.endsWith(".joined")) return "ok";
  return "neutral";
}

function Subject({ event }: { event: FleetEvent }) {
  if (event.subjectType === "host") {
    return (
      <Link href={`/hosts/${encodeURIComponent(event.subjectId)}`} className="mono">
        {event.subjectId}
      </Link>
    );
  }
  return (
    <span className="mono">
      {event.subjectType}/{event.subjectId}
    </span>
  );
}

/** What happened, newest first. `showSubject` is off on a host's own page. */
export function EventsTable({ events, showSubject = true }: { events: FleetEvent[]; showSubject?: boolean }) {
  if (events.length === 0) {
    return <div className="panel panel-empty muted">No events yet.</div>;
  }
  return (
    <div className="panel table-wrap">
      <table className="table" data-testid="events-table">
        <thead>
          <tr>
            <th className="col-time">Time</th>
            <th className="col-kind">Kind</th>
            {showSubject && <th className="col-subject">Subject</th>}
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id} data-testid="event-row" data-kind={e.kind}>
              <td>
                <RelativeTime past value={e.at} />
              </td>
              <td>
                <span className={`kind kind-${kindTone(e.kind)}`}>{e.kind}</span>
              </td>
              {showSubject && (
                <td>
                  <Subject event={e} />
                </td>
              )}
              <td>{e.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
