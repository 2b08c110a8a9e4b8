/**
 * Compose's variable interpolation in string values: `$VAR`, `${VAR}`,
 * `${VAR:-default}` / `${VAR-default}`, `${VAR:?message}` / `${VAR?message}`,
 * `${VAR:+other}` / `${VAR+other}`, and `$$` for a literal `$`. Values come
 * from the variables the caller passes (the CLI passes its environment and
 * the stack's .env file); an unset variable without a default becomes an
 * empty string with a warning, as in Compose.
 */
export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
}

export interface Interpolated {
  value: unknown;
  errors: InterpolationProblem[];
  warnings: InterpolationProblem[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

export function interpolate(value: unknown, variables: Record<string, string | undefined>): Interpolated {
  const errors: InterpolationProblem[] = [];
  const warnings: InterpolationProblem[] = [];
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === "string") {
      const r = interpolateString(v, variables);
      if ("error" in r) {
        errors.push({ path, message: r.error });
        return v;
      }
      for (const name of r.unset) {
        warnings.push({ path, message: `variable ${name} is not set; using an empty string` });
      }
      return r.value;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...path, k])]));
    }
    return v;
  };
  const result = walk(value, []);
  return { value: result, errors, warnings };
}

type StringResult = { value: string; unset: string[] } | { error: string };

export function interpolateString(text: string, vars: Record<string, string | undefined>): StringResult {
  let out = "";
  const unset: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
      continue;
    }
    if (next === "{") {
      const end = matchingBrace(text, i + 1);
      if (end < 0) return { error: `unclosed \${ in "${text}"` };
      const r = expandBraced(text.slice(i + 2, end), vars);
      if ("error" in r) return r;
      out += r.value;
      unset.push(...r.unset);
      i = end + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (!name) {
      out += "$";
      i++;
      continue;
    }
    const v = vars[name];
    if (v === undefined) unset.push(name);
    out += v ?? "";
    i += 1 + name.length;
  }
  return { value: out, unset };
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === "{") depth++;
    else if (text[j] === "}" && --depth === 0) return j;
  }
  return -1;
}

function expandBraced(inner: string, vars: Record<string, string | undefined>): StringResult {
  const name = NAME.exec(inner)?.[0];
  if (!name) return { error: `"\${${inner}}" does not start with a variable name` };
  const rest = inner.slice(name.length);
  const v = vars[name];
  if (rest === "") return v === undefined ? { value: "", unset: [name] } : { value: v, unset: [] };
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) return { error: `"\${${inner}}": expected :-, -, :?, ?, :+ or + after ${name}` };
  const colon = op.startsWith(":");
  const isSet = colon ? v !== undefined && v !== "" : v !== undefined;
  const arg = interpolateString(rest.slice(op.length), vars);
  if ("error" in arg) return arg;
  switch (op.at(-1)) {
    case "-":
      return isSet ? { value: v!, unset: [] } : arg;
    case "?":
      return isSet
        ? { value: v!, unset: [] }
        : { error: `required variable ${name} is not set${arg.value ? `: ${arg.value}` : ""}` };
    default:
      return isSet ? arg : { value: "", unset: [] };
  }
}
