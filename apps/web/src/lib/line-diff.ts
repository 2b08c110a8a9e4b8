/**
 * A line diff for the YAML of two stack revisions: the longest common
 * subsequence of lines after the common head and tail are set aside, which
 * keeps the table small for the usual edit (a few lines in a short file).
 * Pure, so the dashboard needs no diff library.
 */
export type DiffLine =
  | { kind: "same"; text: string; oldNo: number; newNo: number }
  | { kind: "del"; text: string; oldNo: number }
  | { kind: "add"; text: string; newNo: number };

export type DiffRow = DiffLine | { kind: "skip"; count: number };

/** Beyond this many cells the middle is shown as all removed, then all added. */
const MAX_CELLS = 4_000_000;

export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function diffLines(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail++;
  }
  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: "same", text: a[i]!, oldNo: i + 1, newNo: i + 1 });
  middle(a.slice(head, a.length - tail), b.slice(head, b.length - tail), head, head, out);
  for (let k = tail; k > 0; k--) {
    const i = a.length - k;
    const j = b.length - k;
    out.push({ kind: "same", text: a[i]!, oldNo: i + 1, newNo: j + 1 });
  }
  return out;
}

function middle(a: string[], b: string[], offA: number, offB: number, out: DiffLine[]): void {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) {
    for (let i = 0; i < n; i++) out.push({ kind: "del", text: a[i]!, oldNo: offA + i + 1 });
    for (let j = 0; j < m; j++) out.push({ kind: "add", text: b[j]!, newNo: offB + j + 1 });
    return;
  }
  // lcs[i * (m + 1) + j]: the LCS length of a[i..] and b[j..].
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] =
        a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ kind: "same", text: a[i]!, oldNo: offA + i + 1, newNo: offB + j + 1 });
      i++;
      j++;
    } else if (j === m || (i < n && lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
      // On a tie, the removal first: a changed line reads as - then +.
      out.push({ kind: "del", text: a[i]!, oldNo: offA + i + 1 });
      i++;
    } else {
      out.push({ kind: "add", text: b[j]!, newNo: offB + j + 1 });
      j++;
    }
  }
}

/** Unchanged runs longer than twice `context` lines fold into one `skip` row. */
export function foldUnchanged(lines: DiffLine[], context = 3): DiffRow[] {
  const out: DiffRow[] = [];
  let run: DiffLine[] = [];
  const flush = (atStart: boolean, atEnd: boolean) => {
    const keepHead = atStart ? 0 : context;
    const keepTail = atEnd ? 0 : context;
    if (run.length > keepHead + keepTail + 1) {
      out.push(...run.slice(0, keepHead));
      out.push({ kind: "skip", count: run.length - keepHead - keepTail });
      out.push(...run.slice(run.length - keepTail));
    } else {
      out.push(...run);
    }
    run = [];
  };
  let seenChange = false;
  for (const line of lines) {
    if (line.kind === "same") {
      run.push(line);
      continue;
    }
    flush(!seenChange, false);
    seenChange = true;
    out.push(line);
  }
  if (seenChange) flush(false, true);
  else out.push(...run);
  return out;
}

/** How many lines were added and removed. */
export function diffStats(lines: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.kind === "add") added++;
    else if (l.kind === "del") removed++;
  }
  return { added, removed };
}
