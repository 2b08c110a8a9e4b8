/**
 * Compose's units: durations ("1m30s", "500ms"), byte sizes ("128M", "1g",
 * binary multiples as Docker reads them) and CPUs ("0.5"). Each parser
 * returns a number or a message saying what a valid value looks like.
 */
export type Parsed = { ok: true; value: number } | { ok: false; message: string };

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go-style duration ("1h2m3.5s", "250ms") in milliseconds. */
export function parseDuration(input: unknown): Parsed {
  const hint = `a duration like "10s", "1m30s" or "500ms"`;
  if (typeof input !== "string") return { ok: false, message: `expected ${hint}, got ${describe(input)}` };
  const text = input.trim();
  if (text === "0") return { ok: true, value: 0 };
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (!m) return { ok: false, message: `"${input}" is not ${hint}` };
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    at = part.lastIndex;
  }
  if (text.length === 0) return { ok: false, message: `expected ${hint}, got an empty string` };
  return { ok: true, value: Math.round(total) };
}

const BYTE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A size ("128M", "1.5g", "512kb", 1048576) in bytes. */
export function parseBytes(input: unknown): Parsed {
  const hint = `a size like "128M", "1G" or a number of bytes`;
  if (typeof input === "number") {
    return Number.isSafeInteger(input) && input > 0
      ? { ok: true, value: input }
      : { ok: false, message: `expected ${hint}, got ${input}` };
  }
  if (typeof input !== "string") return { ok: false, message: `expected ${hint}, got ${describe(input)}` };
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(input.trim());
  if (!m) return { ok: false, message: `"${input}" is not ${hint}` };
  const value = Math.floor(Number(m[1]) * BYTE_UNITS[(m[2] || "b").toLowerCase()]!);
  if (!Number.isSafeInteger(value) || value <= 0) return { ok: false, message: `"${input}" is out of range` };
  return { ok: true, value };
}

/** A number of CPUs ("0.5", 2): more than 0, at most 1024. */
export function parseCpus(input: unknown): Parsed {
  const value = typeof input === "string" && input.trim() !== "" ? Number(input) : input;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 1024) {
    return { ok: false, message: `expected a number of CPUs like "0.5" or 2, got ${describe(input)}` };
  }
  return { ok: true, value };
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return `"${value}"`;
  return String(value);
}
