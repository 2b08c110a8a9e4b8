"use client";

export interface TeamOption {
  value: string;
  label: string;
}

/** The "Team" select in a page header, which narrows what the page lists (Stacks, Registry). */
export function TeamSelect(props: {
  value: string;
  options: TeamOption[];
  onPick: (value: string) => void;
  testId: string;
}) {
  return (
    <label className="team-picker">
      <span className="muted">Team</span>
      <select
        name="team"
        data-testid={props.testId}
        value={props.value}
        onChange={(e) => props.onPick(e.target.value)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}
