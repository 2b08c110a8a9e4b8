import type { SpecIssue, SpecIssueKind } from "./errors.ts";
import { closestKey, type KeyRule } from "./keys.ts";
import type { SpecWarning } from "./model.ts";
import { describe } from "./units.ts";
import type { LoadedYaml } from "./yaml.ts";

export type Path = (string | number)[];

/**
 * What normalising a stack file collects on the way: issues (which refuse
 * the file) and warnings, each placed at a line and column. The readers
 * below return undefined after reporting, so one pass finds every problem.
 */
export class Context {
  readonly issues: SpecIssue[] = [];
  readonly warnings: SpecWarning[] = [];

  constructor(
    private readonly yaml: LoadedYaml,
    readonly variables: Record<string, string | undefined>,
    readonly readFile?: (path: string) => string | undefined,
  ) {}

  issue(kind: SpecIssueKind, path: Path, message: string, atKey = false): undefined {
    this.issues.push({ kind, path, ...this.yaml.locate(path, atKey), message });
    return undefined;
  }

  invalid(path: Path, message: string): undefined {
    return this.issue("invalid", path, message);
  }

  warn(path: Path, message: string, atKey = false): void {
    this.warnings.push({ path, ...this.yaml.locate(path, atKey), message });
  }

  /** Report unknown, unsupported and ignored keys of `map`; true when none was an error. */
  checkKeys(map: Record<string, unknown>, rules: Record<string, KeyRule>, path: Path): boolean {
    let clean = true;
    for (const key of Object.keys(map)) {
      if (key.startsWith("x-")) continue;
      const rule = rules[key];
      const at = [...path, key];
      if (!rule) {
        const guess = closestKey(key, Object.keys(rules));
        const where = path.length > 0 ? ` in ${path.join(".")}` : "";
        this.issue(
          "unknown-key",
          at,
          `unknown key "${key}"${where}${guess ? `; did you mean "${guess}"?` : ""}`,
          true,
        );
        clean = false;
      } else if (rule.kind === "unsupported") {
        this.issue("unsupported", at, `"${key}" is not supported: ${rule.why}`, true);
        clean = false;
      } else if (rule.kind === "ignored") {
        this.warn(at, `"${key}" is ignored: ${rule.why}`, true);
      }
    }
    return clean;
  }

  // ------------------------------------------------------------ readers

  map(v: unknown, path: Path): Record<string, unknown> | undefined {
    if (v === undefined) return undefined;
    if (v === null) return {};
    if (typeof v !== "object" || Array.isArray(v))
      return this.invalid(path, `expected a map, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }

  /** A scalar as a string; numbers and booleans are accepted as Compose does. */
  string(v: unknown, path: Path): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return this.invalid(path, `expected a string, got ${describe(v)}`);
  }

  int(v: unknown, path: Path, min: number, max: number): number | undefined {
    if (v === undefined) return undefined;
    const n = typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
      return this.invalid(path, `expected a whole number from ${min} to ${max}, got ${describe(v)}`);
    }
    return n;
  }

  number(v: unknown, path: Path, min: number, max: number): number | undefined {
    if (v === undefined) return undefined;
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || n < min || n > max) {
      return this.invalid(path, `expected a number from ${min} to ${max}, got ${describe(v)}`);
    }
    return n;
  }

  bool(v: unknown, path: Path): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "false") return v === "true";
    return this.invalid(path, `expected true or false, got ${describe(v)}`);
  }

  oneOf<T extends string>(v: unknown, path: Path, allowed: readonly T[]): T | undefined {
    if (v === undefined) return undefined;
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    return this.invalid(path, `expected one of ${allowed.join(", ")}, got ${describe(v)}`);
  }

  list(v: unknown, path: Path): unknown[] | undefined {
    if (v === undefined) return undefined;
    if (v === null) return [];
    if (!Array.isArray(v)) return this.invalid(path, `expected a list, got ${describe(v)}`);
    return v;
  }

  /** A map of strings, or a list of "KEY=VALUE" (labels, environment). */
  stringMap(v: unknown, path: Path, what: string): Record<string, string | null> | undefined {
    if (v === undefined) return undefined;
    const out: Record<string, string | null> = {};
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const s = this.string(item, [...path, i]);
        if (s === undefined) return;
        const eq = s.indexOf("=");
        const key = eq < 0 ? s : s.slice(0, eq);
        if (key === "") this.invalid([...path, i], `expected ${what} as KEY=VALUE, got "${s}"`);
        else out[key] = eq < 0 ? null : s.slice(eq + 1);
      });
      return out;
    }
    const map = this.map(v, path);
    if (!map) return undefined;
    for (const [key, value] of Object.entries(map)) {
      out[key] = value === null ? null : (this.string(value, [...path, key]) ?? null);
    }
    return out;
  }
}
