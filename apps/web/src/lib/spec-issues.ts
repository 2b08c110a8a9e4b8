/**
 * A refused stack file comes back as one issue per line,
 * `file:line:column: message` (or `file: message` when the issue has no
 * place). The editor lists them and moves the cursor to the one clicked.
 */
export interface FileIssue {
  line: number | null;
  column: number | null;
  message: string;
}

export function parseIssues(text: string, fileName: string): FileIssue[] {
  const prefix = `${fileName}:`;
  const issues: FileIssue[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (!line) continue;
    if (!line.startsWith(prefix)) {
      // A continuation of the previous message, or a message about something else.
      const last = issues[issues.length - 1];
      if (last && raw.startsWith(" ")) last.message += `\n${line.trim()}`;
      else issues.push({ line: null, column: null, message: line });
      continue;
    }
    const rest = line.slice(prefix.length);
    const m = /^(\d+):(\d+):\s?(.*)$/s.exec(rest);
    if (m) issues.push({ line: Number(m[1]), column: Number(m[2]), message: m[3]! });
    else issues.push({ line: null, column: null, message: rest.replace(/^\s+/, "") });
  }
  return issues;
}

/** The character offset of a 1-based line and column in `text`, clamped to the text. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf("\n", offset);
    if (next === -1) return text.length;
    offset = next + 1;
  }
  const end = text.indexOf("\n", offset);
  const lineEnd = end === -1 ? text.length : end;
  return Math.min(offset + Math.max(0, column - 1), lineEnd);
}
