import type { LiveStatus } from "../lib/live.ts";

const LABELS: Record<LiveStatus, string> = {
  live: "Live",
  connecting: "Connecting…",
  offline: "Updates paused — reconnecting",
};

/** Whether the page is receiving live updates from the control plane. */
export function LiveIndicator({ status }: { status: LiveStatus }) {
  return (
    <span className={`live live-${status}`} data-testid="live-indicator" data-status={status}>
      <span className="live-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
