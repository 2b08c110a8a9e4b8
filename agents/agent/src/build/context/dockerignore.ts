import path from "node:path";

/**
 * `.dockerignore` with Docker's semantics (moby's patternmatcher): one
 * pattern a line, `#` comments, `!` exceptions, the last matching pattern
 * wins; a pattern matches a path or any of its parent directories; `*` and
 * `?` never cross "/", `**` matches any number of directories, `[…]`
 * classes and `\` escapes as in Go's filepath.Match. Patterns are cleaned
 * (leading "/" and "./" dropped) and relative to the context root.
 */

interface Pattern {
  text: string;
  exclusion: boolean;
  regex: RegExp;
  /** Number of path components (for matching parent directories). */
  depth: number;
}

function escapeRegex(ch: string): string {
  return /[.+^${}()|[\]\\*?]/.test(ch) ? `\\${ch}` : ch;
}

/** Docker's pattern → regular expression conversion. */
export function patternRegex(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i += 1) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i += 1;
        // "**/" also matches nothing at all: "**/a" matches "a".
        if (pattern[i + 1] === "/") {
          i += 1;
          re += "(.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (ch === "\\") {
      i += 1;
      if (i < pattern.length) re += escapeRegex(pattern[i]!);
    } else if (ch === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end === -1) throw new Error(`invalid .dockerignore pattern "${pattern}": unclosed [`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith("^") || cls.startsWith("!")) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else re += escapeRegex(ch);
  }
  return new RegExp(`${re}$`);
}

function clean(pattern: string): string {
  const normalized = path.posix.normalize(pattern);
  const stripped = normalized.replace(/^\/+/, "").replace(/\/+$/, "");
  return stripped === "" ? "." : stripped;
}

/** The patterns of a .dockerignore file's text. */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    patterns.push(line);
  }
  return patterns;
}

export interface IgnoreMatcher {
  /** True when the context path (relative, "/"-separated) is left out. */
  ignores(relPath: string): boolean;
  /** True when some `!` pattern could bring back something below an ignored directory. */
  readonly hasExceptions: boolean;
}

export function createIgnoreMatcher(patternTexts: readonly string[]): IgnoreMatcher {
  const patterns: Pattern[] = [];
  for (const raw of patternTexts) {
    const exclusion = raw.startsWith("!");
    const body = exclusion ? raw.slice(1).trim() : raw;
    if (body === "") throw new Error(`invalid .dockerignore pattern "${raw}": "!" needs a pattern`);
    const text = clean(body);
    patterns.push({ text, exclusion, regex: patternRegex(text), depth: text.split("/").length });
  }
  return {
    hasExceptions: patterns.some((p) => p.exclusion),
    ignores(relPath) {
      const file = clean(relPath);
      const parents = path.posix.dirname(file).split("/");
      let matched = false;
      for (const p of patterns) {
        // An exception only matters after a match, an exclusion only before one.
        if (p.exclusion !== matched) continue;
        let match = p.regex.test(file);
        if (!match && parents[0] !== "." && p.depth <= parents.length) {
          match = p.regex.test(parents.slice(0, p.depth).join("/"));
        }
        if (match) matched = !p.exclusion;
      }
      return matched;
    },
  };
}
