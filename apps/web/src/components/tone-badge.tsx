import type { ReactNode } from "react";
import type { Tone } from "../lib/stacks.ts";

/** A coloured pill: a task's or an update's state, a plan's action. */
export function ToneBadge({
  tone,
  children,
  testId,
  value,
  dot = true,
}: {
  tone: Tone;
  children: ReactNode;
  testId?: string;
  /** Set as data-value, for tests and styles. */
  value?: string;
  dot?: boolean;
}) {
  return (
    <span className={`badge badge-tone-${tone}`} data-testid={testId} data-value={value}>
      {dot && <span className="badge-dot" aria-hidden="true" />}
      {children}
    </span>
  );
}
