import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import type { SpecIssue } from "./errors.ts";

/** Bounds on what a stack file may make the parser do. */
export interface YamlLimits {
  /** Bytes of YAML. */
  maxBytes: number;
  /** Depth of nested maps and sequences. */
  maxDepth: number;
  /** Alias expansions while building values (the billion-laughs bound). */
  maxAliasCount: number;
}

export const DEFAULT_LIMITS: YamlLimits = { maxBytes: 1024 * 1024, maxDepth: 32, maxAliasCount: 100 };

export interface Position {
  line: number;
  column: number;
}

/** A parsed YAML document: its plain value and a way back from a path to a line. */
export interface LoadedYaml {
  value: unknown;
  /** Where `path` is: the key itself with `key`, else its value; the nearest ancestor that exists. */
  locate(path: (string | number)[], key?: boolean): Position | undefined;
}

export type LoadResult = { ok: true; yaml: LoadedYaml } | { ok: false; issues: SpecIssue[] };

export function loadYaml(source: string, limits: YamlLimits = DEFAULT_LIMITS): LoadResult {
  const bytes = Buffer.byteLength(source, "utf8");
  if (bytes > limits.maxBytes) {
    return fail("limit", `the file is ${bytes} bytes; a stack file may be at most ${limits.maxBytes} bytes`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, merge: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        kind: "syntax",
        path: [],
        ...toPosition(lineCounter, e.pos[0]),
        message: e.message.split("\n")[0] ?? e.message,
      })),
    };
  }
  const tooDeep = findTooDeep(doc.contents, limits.maxDepth, 0);
  if (tooDeep) {
    return {
      ok: false,
      issues: [
        {
          kind: "limit",
          path: [],
          ...toPosition(lineCounter, tooDeep.range?.[0]),
          message: `nesting deeper than ${limits.maxDepth} levels`,
        },
      ],
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/alias/i.test(message)) {
      return fail("limit", `aliases expand to too many values (at most ${limits.maxAliasCount} expansions)`);
    }
    return fail("syntax", message);
  }
  return { ok: true, yaml: { value, locate: (path, key) => locate(doc, lineCounter, path, key) } };
}

function fail(kind: SpecIssue["kind"], message: string): LoadResult {
  return { ok: false, issues: [{ kind, path: [], message }] };
}

function toPosition(lc: LineCounter, offset: number | undefined): Partial<Position> {
  if (offset === undefined) return {};
  const { line, col } = lc.linePos(offset);
  return { line, column: col };
}

function findTooDeep(node: unknown, max: number, depth: number): Node | null {
  if (isMap(node) || isSeq(node)) {
    if (depth >= max) return node;
    for (const item of node.items) {
      const child = isPair(item) ? item.value : item;
      const found = findTooDeep(child, max, depth + 1);
      if (found) return found;
    }
  }
  return null;
}

function locate(
  doc: Document,
  lc: LineCounter,
  path: (string | number)[],
  key = false,
): Position | undefined {
  for (let n = path.length; n >= 0; n--) {
    const at = path.slice(0, n);
    if (key && n === path.length && n > 0) {
      const parent = doc.getIn(at.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(at.at(-1)));
        const offset = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
        if (offset !== undefined) return toPosition(lc, offset) as Position;
      }
      continue;
    }
    const node = n === 0 ? doc.contents : doc.getIn(at, true);
    const target = isAlias(node) ? node : (node as Node | undefined);
    const offset = target?.range?.[0];
    if (offset !== undefined) return toPosition(lc, offset) as Position;
  }
  return undefined;
}
