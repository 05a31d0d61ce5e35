/** Prints rows as aligned columns, or as JSON with --json. */
export function printTable(rows: Record<string, unknown>[], columns: string[], opts: { header?: boolean } = {}): void {
  if (rows.length === 0) return;
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  if (opts.header !== false) console.log(line(columns));
  for (const row of cells) console.log(line(row));
}

export function printJson(data: unknown): void {
  console.log(JSON.stringify(data, null, 2));
}

export function heading(text: string): void {
  console.log(`=== ${text}`);
}
