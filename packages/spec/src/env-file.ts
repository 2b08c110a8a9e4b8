/**
 * An env file as Compose reads it: KEY=VALUE per line, `#` comments and
 * blank lines skipped, an optional `export ` prefix, values optionally in
 * single quotes (literal) or double quotes (with \n, \t, \" and \\ escapes).
 * A bare KEY takes its value from `variables`, or is left out.
 */
export function parseEnvFile(
  text: string,
  variables: Record<string, string | undefined>,
): { values: Record<string, string>; errors: { line: number; message: string }[] } {
  const values: Record<string, string> = {};
  const errors: { line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=(.*))?$/.exec(line);
    if (!m) {
      errors.push({ line: index + 1, message: `expected KEY=VALUE, got "${line.slice(0, 60)}"` });
      return;
    }
    const key = m[1]!;
    const rawValue = m[2];
    if (rawValue === undefined) {
      const v = variables[key];
      if (v !== undefined) values[key] = v;
      return;
    }
    values[key] = unquote(rawValue.trim());
  });
  return { values, errors };
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value
      .slice(1, -1)
      .replace(/\\(["\\nt])/g, (_, c: string) => ({ n: "\n", t: "\t" })[c as "n" | "t"] ?? c);
  }
  return value.replace(/\s+#.*$/, "");
}
