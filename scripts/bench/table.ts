/** A plain-text table: one header row, right-aligned numbers, left-aligned text. */
export function table(title: string, header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map((cell) => (typeof cell === 'number' ? format(cell) : cell)))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const numeric = header.map((_, column) =>
    rows.every((row) => typeof row[column] === 'number' || /^[-+]?[\d.,]+( ?[a-zA-Z%×]+)?$/.test(String(row[column] ?? ''))),
  );
  const line = (row: string[]): string =>
    `| ${row.map((cell, column) => (numeric[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (numeric[column] ? `${'-'.repeat(width + 1)}:` : `${'-'.repeat(width + 2)}`)).join('|')}|`;
  return [`### ${title}`, '', line(cells[0] ?? []), rule, ...cells.slice(1).map(line), ''].join('\n');
}

/** Numbers with at most two decimals, and thousands grouped for big ones. */
export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

/** Seconds with one decimal. */
export const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/** "3.4×" */
export const ratio = (value: number, base: number): string => (base > 0 ? `${(value / base).toFixed(value / base >= 10 ? 0 : 2)}×` : 'n/a');
