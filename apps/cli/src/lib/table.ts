/** Control characters (and so terminal escape sequences) in data a host reported are shown, not obeyed. */
export function printable(value: string): string {
  return value.replace(/\p{Cc}/gu, "?");
}

const GAP = "   ";

/**
 * Plain aligned columns, like `docker ps`: an upper-case header row, cells
 * padded to the widest in their column, three spaces between columns and no
 * trailing spaces. Empty cells show as "-".
 */
export function formatTable(
  headers: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const cells = [headers.map(String), ...rows.map((row) => headers.map((_, i) => cellText(row[i])))];
  const widths = headers.map((_, col) => Math.max(...cells.map((row) => [...(row[col] ?? "")].length)));
  const lines = cells.map((row) =>
    row
      .map((cell, col) =>
        col === row.length - 1 ? cell : cell + " ".repeat(widths[col]! - [...cell].length),
      )
      .join(GAP)
      .trimEnd(),
  );
  return `${lines.join("\n")}\n`;
}

function cellText(value: string | number | undefined): string {
  if (value === undefined || value === "") return "-";
  return printable(String(value));
}

/** Aligned "Key:  value" lines for a single object (what `inspect` prints as text). */
export function formatFields(
  fields: ReadonlyArray<readonly [string, string | number | null | undefined]>,
): string {
  const width = Math.max(...fields.map(([key]) => key.length)) + 1;
  return fields
    .map(([key, value]) =>
      `${`${key}:`.padEnd(width)}  ${cellText(value === null ? undefined : value)}`.trimEnd(),
    )
    .join("\n")
    .concat("\n");
}
