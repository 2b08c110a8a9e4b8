const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(?:\d+[smhd])+$/;
const PART = /(\d+)([smhd])/g;

/**
 * Parse a duration such as `30m`, `24h`, `7d` or `1h30m` into milliseconds.
 * Units: s, m, h, d. Anything else throws a message saying what is accepted.
 */
export function parseDuration(text: string): number {
  const value = text.trim();
  if (!DURATION.test(value)) {
    throw new Error(
      `"${text}" is not a duration: use a number and a unit, e.g. 30m, 24h or 7d (units: s, m, h, d)`,
    );
  }
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(PART))
    ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  if (ms <= 0) throw new Error(`"${text}" is zero: a duration must be longer than that`);
  if (!Number.isSafeInteger(ms)) throw new Error(`"${text}" is too long`);
  return ms;
}

/** Milliseconds as the shortest duration text parseDuration reads back: 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  let rest = Math.max(1000, Math.round(ms / 1000) * 1000);
  let text = "";
  for (const unit of ["d", "h", "m", "s"] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * UNIT_MS[unit];
  }
  return text;
}
