import type { HostState } from "../lib/trpc.ts";

/** A host's state as a coloured pill; its text is the state itself. */
export function StateBadge({ state }: { state: HostState }) {
  return (
    <span className={`badge badge-${state}`} data-testid="host-state" data-state={state}>
      <span className="badge-dot" aria-hidden="true" />
      {state}
    </span>
  );
}

const TOKEN_TONES = { active: "ok", used: "neutral", expired: "warn", revoked: "bad" } as const;

export function TokenStatusBadge({ status }: { status: keyof typeof TOKEN_TONES }) {
  return (
    <span className={`badge badge-tone-${TOKEN_TONES[status]}`} data-testid="join-token-status">
      {status}
    </span>
  );
}
